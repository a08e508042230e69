import pytest
import pytest_asyncio


def pytest_collection_modifyitems(items):
    """Run every asyncio test in the session loop (the documented recipe)."""
    pytest_asyncio_tests = (item for item in items if pytest_asyncio.is_async_test(item))
    session_scope_marker = pytest.mark.asyncio(loop_scope="session")
    for async_test in pytest_asyncio_tests:
        async_test.add_marker(session_scope_marker, append=False)
        async_test.add_marker(pytest.mark.async_test)


@pytest.fixture(scope="session")
def seen():
    return []
