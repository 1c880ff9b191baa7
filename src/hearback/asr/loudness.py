"""Quiet speech brought up to one loudness before Whisper and its VAD hear it.

Whisper's log-mel input is not normalised to the recording's level: a voice at -60 dBFS
comes out as faint as background noise does. Meetings join voices of very different levels
(a far-field speaker beside a near one; the benchmarks' files put FLEURS sentences recorded at
-60 to -67 dBFS beside AMI meetings at -30 to -45), and the batched pass dropped the quiet
ones whole; Silero VAD did not hear some of them at all (bench/RESULTS.md, issue 26).
:func:`levelled` is a slow automatic gain: never down, at most MAX_GAIN_DB up, each
BLOCK_SECONDS block raised by what the loudest block within REACH_BLOCKS either side needs
(so the pauses between words stay below the words), the gain ramping from block to block.
Only what the recogniser listens to is levelled; the recording, the diarizer's input and
every time stay as they are. Light: numpy only.
"""

from __future__ import annotations

import numpy as np

#: The loudness (dBFS, RMS over a block) quieter speech is brought up to.
LEVEL_DBFS = -26.0
#: The most a stretch is made louder (dB): noise stays below speech that was recorded louder.
MAX_GAIN_DB = 40.0
#: Length (s) of the blocks the level is measured on.
BLOCK_SECONDS = 0.5
#: A block's gain follows the loudest block within this many blocks either side.
REACH_BLOCKS = 4


def levelled(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """A levelled copy of ``samples`` (float32, same length, clipped to ±1); ``samples``
    itself is left untouched."""
    size = max(int(BLOCK_SECONDS * sample_rate), 1)
    count = -(-len(samples) // size)
    out = np.zeros(count * size, dtype=np.float32)
    out[:len(samples)] = samples
    if not count:
        return out
    blocks = out.reshape(count, size)
    # shape: rms (count,)
    rms = np.sqrt(np.square(blocks, dtype=np.float64).mean(axis=1))
    loudest = np.lib.stride_tricks.sliding_window_view(
        np.pad(rms, REACH_BLOCKS, mode="edge"), 2 * REACH_BLOCKS + 1).max(axis=1)
    gains = np.clip(10 ** (LEVEL_DBFS / 20) / np.maximum(loudest, 1e-9), 1.0,
                    10 ** (MAX_GAIN_DB / 20)).astype(np.float32)
    following = np.append(gains[1:], gains[-1])
    ramp = np.arange(size, dtype=np.float32) / size
    # shape: blocks (count, size), each multiplied by its gain ramping towards the next block's
    changed = (gains != 1.0) | (following != 1.0)
    blocks[changed] *= gains[changed, None] + (following[changed] - gains[changed])[:, None] * ramp[None, :]
    np.clip(out, -1.0, 1.0, out=out)
    return out[:len(samples)]
