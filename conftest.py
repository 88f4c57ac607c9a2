"""Repository-wide pytest set-up: the genuine Kafka and MongoDB fixtures live in smart_shared."""

pytest_plugins = ["smart_shared.testing"]
