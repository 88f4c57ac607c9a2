"""Repository-wide pytest set-up: the genuine Kafka and MongoDB fixtures live in smart_testing."""

# import the cross-service test package first, so pytest's importlib mode finds the real
# package (with tests.platform) rather than making an empty one for tests/e2e/conftest.py
import tests.platform  # noqa: F401

pytest_plugins = ["smart_testing"]
