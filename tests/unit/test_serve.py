"""`python -m shared.serve`: a process whose container died exits non-zero, never lingers answering nothing
(issue 9 item 10)."""

from nameko.extensions import DependencyProvider

from shared import serve


class Crashing(DependencyProvider):
    def start(self):
        self.container.spawn_managed_thread(self.crash)

    def crash(self):
        raise RuntimeError("lost for good")


class Doomed:
    name = "doomed"
    crashing = Crashing()


def test_a_process_whose_container_died_exits_non_zero(monkeypatch):
    monkeypatch.setattr(serve, "service_class", lambda name: Doomed)
    monkeypatch.setattr(serve.config, "load", lambda name: {})
    monkeypatch.setattr(serve.config, "keep_files_private", lambda: None)
    # leave this process's signals and logging as they were
    monkeypatch.setattr(serve.signal, "signal", lambda signum, handler: None)
    monkeypatch.setattr(serve.logging.config, "dictConfig", lambda settings: None)
    assert serve.main(["doomed"]) == 1
