from smart_shared.service import run

from billing.app import service

run(service)
