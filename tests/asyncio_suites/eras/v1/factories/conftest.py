import asyncio


class SelectorLoop(asyncio.SelectorEventLoop):
    pass


class CountingLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__()
        self.scheduled = 0

    def call_soon(self, callback, *args, context=None):
        self.scheduled += 1
        return super().call_soon(callback, *args, context=context)


def pytest_asyncio_loop_factories(config, item):
    if item.path.name == "test_single_factory.py":
        return {"counting": CountingLoop}
    return {"selector": SelectorLoop, "counting": CountingLoop}
