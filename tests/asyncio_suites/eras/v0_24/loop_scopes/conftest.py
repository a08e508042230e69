import pytest


@pytest.fixture(scope="session")
def loops():
    """Loops seen by tests, by name, to compare across modules."""
    return {}
