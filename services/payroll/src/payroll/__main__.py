from smart_shared.service import run

from payroll.app import service

run(service)
