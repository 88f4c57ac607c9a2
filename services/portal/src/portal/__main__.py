from smart_shared.service import run

from portal.app import service

run(service)
