"""A fixture that resets its context variable with the token it got, at teardown."""

import contextvars

import pytest
import pytest_asyncio

tenant = contextvars.ContextVar("tenant", default="none")


@pytest_asyncio.fixture
async def as_tenant():
    token = tenant.set("acme")
    yield "acme"
    tenant.reset(token)


@pytest.mark.asyncio
async def test_tenant_set(as_tenant):
    assert tenant.get() == as_tenant


@pytest.mark.asyncio
async def test_tenant_reset_afterwards():
    assert tenant.get() == "none"
