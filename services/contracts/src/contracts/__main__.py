from smart_shared.service import run

from contracts.app import service

run(service)
