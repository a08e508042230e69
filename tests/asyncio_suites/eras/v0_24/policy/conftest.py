import asyncio

import pytest


class TaggedLoop(asyncio.SelectorEventLoop):
    """The loops of this suite; tests recognise them by class."""


class TaggedPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return TaggedLoop()


@pytest.fixture(scope="session")
def event_loop_policy():
    return TaggedPolicy()
