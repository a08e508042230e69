import asyncio

import pytest


class LoopA(asyncio.SelectorEventLoop):
    pass


class LoopB(asyncio.SelectorEventLoop):
    pass


class PolicyA(asyncio.DefaultEventLoopPolicy):
    loop_class = LoopA

    def new_event_loop(self):
        return self.loop_class()


class PolicyB(PolicyA):
    loop_class = LoopB


@pytest.fixture(scope="session", params=[PolicyA(), PolicyB()], ids=["policy_a", "policy_b"])
def event_loop_policy(request):
    return request.param
