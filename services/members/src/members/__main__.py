from smart_shared.service import run

from members.app import service

run(service)
