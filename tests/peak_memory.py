"""The code that a memory test's subprocess runs first: ``PeakAnon``, a
context manager recording the peak growth of anonymous resident memory
(``RssAnon``) while its block runs, sampled every 2 ms by a thread."""

import textwrap

PREAMBLE = textwrap.dedent("""
    import threading, time

    def anon_kb():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("RssAnon:"))

    class PeakAnon:
        def __enter__(self):
            self.before, self.peak, self.done = anon_kb(), 0, threading.Event()
            self.watcher = threading.Thread(target=self.watch)
            self.watcher.start()
            return self

        def watch(self):
            while not self.done.is_set():
                self.peak = max(self.peak, anon_kb())
                time.sleep(0.002)

        def __exit__(self, *exc):
            self.done.set()
            self.watcher.join()
            self.growth_kb = self.peak - self.before
""")
