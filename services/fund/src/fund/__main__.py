from smart_shared.service import run

from fund.app import service

run(service)
