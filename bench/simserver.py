"""The simulator in its own process (a venue is another machine).

Prints its base URL, then reads commands on stdin until it closes:
``instant <venue> <ms> <symbol> [<symbol> ...]`` puts the next funding of those symbols on that venue at exactly
``ms`` (venue clock), so several symbols share one instant; answers ``ok``.
"""

from __future__ import annotations

import sys

from exchanges.simulator import Simulator


def main() -> None:
    latency = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with Simulator(seed=7, latency_ms=latency, random_walk=False) as sim:
        print(sim.base_url, flush=True)
        for line in sys.stdin:
            words = line.split()
            if words and words[0] == "instant":
                venue, ms, symbols = words[1], int(words[2]), words[3:]
                with sim.state.lock:
                    for symbol in symbols:
                        sim.state.market(symbol).funding[venue].next_ms = ms
                sim.funding_clock.wake()
                print("ok", flush=True)


if __name__ == "__main__":
    main()
