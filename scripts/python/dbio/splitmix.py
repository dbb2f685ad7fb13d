"""The project's SplitMix64 (crates/model/src/splitmix.rs): the point
workload's keys come from its sequence, and its finishing mixer ends the
row digest's hash."""

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
# The point workload's seed (crates/model/src/workload.rs).
POINT_SEED = 0x5EEDD810


def mix(z):
    """SplitMix64's finishing mixer."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def sequence(seed):
    """The sequence from `seed`, for ever."""
    state = seed & MASK
    while True:
        state = (state + GOLDEN) & MASK
        yield mix(state)
