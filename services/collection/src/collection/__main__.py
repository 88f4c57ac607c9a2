from smart_shared.service import run

from collection.app import service

run(service)
