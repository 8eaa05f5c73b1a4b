"""Readers of the two AEDAT recording formats used by the DVS data sets, validating what they read.

* AEDAT 3.1 (DVS Gesture, written by cAER): ``#`` text header lines ending with
  ``#!END-HEADER\\r\\n``, then event packets. A packet is a 28-byte little-endian header
  (eventType int16, eventSource int16, eventSize int32, eventTSOffset int32, eventTSOverflow
  int32, eventCapacity int32, eventNumber int32, eventValid int32) followed by
  ``eventNumber * eventSize`` bytes of events. Polarity events (type 1) are 8 bytes: uint32 data
  (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x; libcaer's ``polarity.h``) and int32
  timestamp in µs; the full timestamp is ``eventTSOverflow << 31 | timestamp``. Packets of other
  types (special events, frames, IMU) are checked for size and skipped; invalid events dropped.
* AEDAT 2.0 (jAER, SLOW-POKER-DVS): ``#`` text header lines, then big-endian pairs of uint32
  address and uint32 timestamp in µs. DVS128 address: x = (addr & 0xFE) >> 1,
  y = (addr & 0x7F00) >> 8, polarity bit 0 (0 = ON). Bit 15 marks a special (external input)
  event, which is dropped.

Every problem raises :class:`QsnnError` naming the file and what is wrong; callers decide
whether to skip the recording or stop.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ....errors import QsnnError

SENSOR = (128, 128)  # (height, width) of the DVS128
_PACKET = struct.Struct("<hhiiiiii")
_POLARITY = 1
_POLARITY_DTYPE = np.dtype([("data", "<u4"), ("ts", "<i4")])
_AEDAT2_DTYPE = np.dtype([("addr", ">u4"), ("ts", ">u4")])


class Events(NamedTuple):
    """Decoded events, one entry per event, sorted by time."""

    t_us: np.ndarray  # int64 timestamps, µs
    x: np.ndarray  # int64 column, 0 = left
    y: np.ndarray  # int64 row
    pol: np.ndarray  # int64 polarity, 1 = ON (brighter), 0 = OFF


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise QsnnError(f"{path}: recording not found") from None
    except OSError as exc:
        raise QsnnError(f"{path}: cannot read recording: {exc.strerror}") from None


def _split_header(path: Path, data: bytes, end_marker: bytes | None) -> tuple[list[str], int]:
    """Header lines (``#``-prefixed) and the offset where binary data starts.

    With ``end_marker`` the header must end with that line; without, it ends at the first line
    that does not start with ``#``.
    """
    lines: list[str] = []
    pos = 0
    while pos < len(data) and data[pos : pos + 1] == b"#":
        newline = data.find(b"\n", pos)
        if newline < 0:
            raise QsnnError(f"{path}: header line at byte {pos} never ends (truncated file?)")
        line = data[pos : newline + 1]
        lines.append(line.decode("latin1").rstrip("\r\n"))
        pos = newline + 1
        if end_marker is not None and line == end_marker:
            return lines, pos
    if end_marker is not None:
        marker = end_marker.decode().strip()
        raise QsnnError(f"{path}: header does not end with a '{marker}' line (not AEDAT 3?)")
    return lines, pos


def _check_sensor(path: Path, x: np.ndarray, y: np.ndarray, sensor: tuple[int, int]) -> None:
    height, width = sensor
    outside = (x >= width) | (y >= height) | (x < 0) | (y < 0)
    if outside.any():
        k = int(np.argmax(outside))
        raise QsnnError(
            f"{path}: event {k} at x={x[k]}, y={y[k]} lies outside the {width}x{height} sensor"
        )


def _check_monotonic(path: Path, t_us: np.ndarray) -> None:
    back = np.diff(t_us) < 0
    if back.any():
        k = int(np.argmax(back)) + 1
        raise QsnnError(
            f"{path}: timestamps go backwards at event {k} ({t_us[k - 1]} µs -> {t_us[k]} µs)"
        )


def _aedat3_polarity_packets(path: Path, data: bytes, start: int) -> list[np.ndarray]:
    """Walk the packets from ``start``; return the polarity events of each polarity packet."""
    packets = []
    pos = start
    index = 0
    while pos < len(data):
        if len(data) - pos < _PACKET.size:
            raise QsnnError(
                f"{path}: truncated: {len(data) - pos} bytes after packet {index - 1}, "
                f"less than a {_PACKET.size}-byte packet header"
            )
        etype, _source, size, ts_offset, overflow, _cap, number, valid = _PACKET.unpack_from(
            data, pos
        )
        where = f"packet {index} at byte {pos}"
        if size <= 0 or number < 0 or not 0 <= valid <= number or overflow < 0:
            raise QsnnError(
                f"{path}: corrupt {where}: eventSize={size}, eventNumber={number}, "
                f"eventValid={valid}, eventTSOverflow={overflow}"
            )
        body = pos + _PACKET.size
        end = body + size * number
        if end > len(data):
            raise QsnnError(
                f"{path}: truncated: {where} declares {number} events of {size} bytes "
                f"but only {len(data) - body} bytes remain"
            )
        if etype == _POLARITY:
            if size != 8 or ts_offset != 4:
                raise QsnnError(
                    f"{path}: corrupt {where}: polarity events must have eventSize=8 and "
                    f"eventTSOffset=4, got {size} and {ts_offset}"
                )
            events = np.frombuffer(data, dtype=_POLARITY_DTYPE, count=number, offset=body)
            full = np.empty((number, 2), dtype=np.int64)
            full[:, 0] = events["data"]
            full[:, 1] = (np.int64(overflow) << 31) | events["ts"].astype(np.int64)
            if (events["ts"] < 0).any():
                raise QsnnError(f"{path}: corrupt {where}: negative event timestamp")
            packets.append(full)
        pos = end
        index += 1
    return packets


def read_aedat3(path: str | os.PathLike, sensor: tuple[int, int] = SENSOR) -> Events:
    """Read the polarity events of an AEDAT 3.x recording (see the module docstring)."""
    file = Path(path)
    data = _read_bytes(file)
    if data.startswith(b"#!AER-DAT2"):
        raise QsnnError(f"{file}: is an AEDAT 2.0 recording, expected AEDAT 3.x")
    if not data.startswith(b"#!AER-DAT3"):
        raise QsnnError(f"{file}: does not start with an '#!AER-DAT3.x' header line")
    _, start = _split_header(file, data, b"#!END-HEADER\r\n")
    packets = _aedat3_polarity_packets(file, data, start)
    if not packets:
        raise QsnnError(f"{file}: holds no polarity events")
    raw = np.concatenate(packets)
    raw = raw[(raw[:, 0] & 1) == 1]  # bit 0: valid mark
    address, t_us = raw[:, 0], raw[:, 1]
    events = Events(t_us, (address >> 17) & 0x7FFF, (address >> 2) & 0x7FFF, (address >> 1) & 1)
    _check_sensor(file, events.x, events.y, sensor)
    _check_monotonic(file, t_us)
    return events


def read_aedat2(path: str | os.PathLike) -> Events:
    """Read a jAER AEDAT 2.0 DVS128 recording (see the module docstring).

    32-bit timestamps that wrap around are unwrapped; a file whose data is not a whole number
    of 8-byte events is truncated; an address using bits above 15 is not a DVS128 event.
    """
    file = Path(path)
    data = _read_bytes(file)
    if not data.startswith(b"#"):
        raise QsnnError(f"{file}: does not start with an AEDAT '#' header")
    header, start = _split_header(file, data, None)
    if header and header[0].startswith("#!AER-DAT3"):
        raise QsnnError(f"{file}: is an AEDAT 3 recording, expected AEDAT 2.0 (jAER)")
    body = len(data) - start
    if body % _AEDAT2_DTYPE.itemsize:
        raise QsnnError(
            f"{file}: truncated: {body} bytes of events is not a multiple of "
            f"{_AEDAT2_DTYPE.itemsize} (address + timestamp)"
        )
    raw = np.frombuffer(data, dtype=_AEDAT2_DTYPE, offset=start)
    if raw.size == 0:
        raise QsnnError(f"{file}: holds no events")
    address = raw["addr"].astype(np.int64)
    foreign = address >> 16 != 0
    if foreign.any():
        k = int(np.argmax(foreign))
        raise QsnnError(
            f"{file}: event {k} has address 0x{address[k]:08x}, not a DVS128 address "
            "(allowed: 15 bits, plus bit 15 for special events)"
        )
    t_us = raw["ts"].astype(np.int64)
    t_us += np.concatenate(([0], np.cumsum(np.diff(t_us) < -(1 << 31)))) << 32  # unwrap
    keep = (address & 0x8000) == 0  # bit 15: external-input (special) event
    address, t_us = address[keep], t_us[keep]
    events = Events(t_us, (address & 0xFE) >> 1, (address & 0x7F00) >> 8, 1 - (address & 1))
    _check_monotonic(file, t_us)
    return events
