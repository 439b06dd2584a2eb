"""The unit tier runs without a broker (`make test-unit` with RabbitMQ stopped): a test here that asks for
one fails at once, saying where it belongs."""
import pytest


@pytest.fixture
def vhost():
    pytest.fail("A unit test needs no broker: use `database_settings`, or move the test to tests/integration.")
