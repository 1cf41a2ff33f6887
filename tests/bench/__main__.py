"""Run every benchmark and print each figure beside its baseline."""

from __future__ import annotations

from tests.bench import roundtrip


def main() -> None:
    print(f"{'benchmark':<40} {'baseline':>12} {'framework':>12} {'ratio':>7}")
    for name, baseline, ours in roundtrip.run():
        print(f"{name:<40} {baseline:>12.0f} {ours:>12.0f} {ours / baseline:>7.2f}")
    print(
        "baseline = bare socket against the same emulator; framework = transport with "
        "deadline, framing and per-message transcript"
    )


if __name__ == "__main__":
    main()
