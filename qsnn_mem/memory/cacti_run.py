"""One run of the real CACTI 7: its input text, running the binary, parsing, the on-disk cache.

One SRAM is described by :class:`SramConfig`, CACTI's answer is an :class:`SramCost` (SI units).
Every run is cached on disk by its input text and the CACTI version, so a configuration runs
once. The binary comes from :mod:`qsnn_mem.memory.cacti_build`; the pricing rules built on these
runs are :mod:`qsnn_mem.memory.cacti`'s.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import QsnnError
from ..io import write_json
from .cacti_build import CACTI_ID, binary_path, cache_root, cacti_dir, is_built

# The settings of every run: a scratchpad ("ram"), low-standby-power ITRS cells (the default of
# hwcomponents-cacti, so our numbers match what Accelergy/AccelForge users see), 300 K, and the
# organisation with the least access time² × read energy ("ED^2": with it set, CACTI ignores the
# objective weights and deviations below, apart from dropping organisations more than 50 %
# worse than the best in both delay and energy). CACTI also
# models an off-chip DDR3 interface whose parameters it requires even for an on-chip SRAM;
# they do not affect the SRAM numbers.
_BASE_CFG = """\
-cache type "ram"
-associativity 1
-tag size (b) 0
-exclusive read port 0
-exclusive write port 0
-single ended read ports 0
-Data array cell type - "itrs-lstp"
-Data array peripheral type - "itrs-lstp"
-Tag array cell type - "itrs-lstp"
-Tag array peripheral type - "itrs-lstp"
-operating temperature (K) 300
-access mode (normal, sequential, fast) - "fast"
-design objective (weight delay, dynamic power, leakage power, cycle time, area) 0:0:1000000:0:0
-deviate (delay, dynamic power, leakage power, cycle time, area) 20:10:100000:100:100
-NUCAdesign objective (weight delay, dynamic power, leakage power, cycle time, area) 100:100:0:0:100
-NUCAdeviate (delay, dynamic power, leakage power, cycle time, area) 10:10000:10000:10000:10000
-Optimize ED or ED^2 (ED, ED^2, NONE): "ED^2"
-Cache model (NUCA, UCA)  - "UCA"
-NUCA bank count 0
-Wire signaling (fullswing, lowswing, default) - "Global_30"
-Wire inside mat - "semi-global"
-Wire outside mat - "semi-global"
-Interconnect projection - "normal"
-Core count 1
-Add ECC - "false"
-Print level (DETAILED, CONCISE) - "CONCISE"
-Print input parameters - "false"
-Force cache config - "false"
-Array Power Gating - "false"
-WL Power Gating - "false"
-CL Power Gating - "false"
-Bitline floating - "false"
-Interconnect Power Gating - "false"
-Power Gating Performance Loss 0.01
-page size (bits) 0
-burst length 8
-internal prefetch width 8
-Ndwl 1
-Ndbl 1
-Nspd 0
-Ndcm 1
-Ndsam1 0
-Ndsam2 0
-dram_type "DDR3"
-io state "WRITE"
-addr_timing 1.0
-mem_density 4 Gb
-bus_freq 800 MHz
-duty_cycle 1.0
-activity_dq 1.0
-activity_ca 0.5
-num_dq 72
-num_dqs 18
-num_ca 25
-num_clk 2
-num_mem_dq 2
-mem_data_width 8
-rtt_value 10000
-ron_value 34
-tflight_value
-num_bobs 1
-capacity 80
-num_channels_per_bob 1
-first metric "Cost"
-second metric "Bandwidth"
-third metric "Energy"
-DIMM model "ALL"
-mirror_in_bob "F"
"""


@dataclass(frozen=True)
class SramConfig:
    """One SRAM macro: node (nm), capacity (bits), word (bits per access), banks, RW ports."""

    node_nm: float
    capacity_bits: int
    word_bits: int
    banks: int = 1
    ports: int = 1


@dataclass(frozen=True)
class SramCost:
    """Per-access energies (J), standby leakage of all banks (W), area (m²), random cycle (s)."""

    read_J: float
    write_J: float
    leak_W: float
    area_m2: float
    cycle_s: float
    source: str

    def values(self) -> list[float]:
        """The numbers in :data:`QUANTITIES` order."""
        return [getattr(self, q) for q in QUANTITIES]


QUANTITIES = ("read_J", "write_J", "leak_W", "area_m2", "cycle_s")  # SramCost's numbers


class CactiFailed(Exception):
    """CACTI ran but found no organisation for the configuration (cacti.query() falls back)."""


def config_text(cfg: SramConfig) -> str:
    """The CACTI input for ``cfg`` (whole-byte word)."""
    return _BASE_CFG + (
        f"-size (bytes) {cfg.capacity_bits // 8}\n"
        f"-block size (bytes) {cfg.word_bits // 8}\n"
        f"-output/input bus width {cfg.word_bits}\n"
        f"-read-write port {cfg.ports}\n"
        f"-UCA bank count {cfg.banks}\n"
        f"-technology (u) {cfg.node_nm / 1000:.6g}\n"
    )


def run_raw(cfg: SramConfig, timeout_s: float = 300) -> SramCost:
    """Run the CACTI binary once for ``cfg``: its own optimum (no cache, no fallback)."""
    if not is_built():
        raise QsnnError(f"CACTI is not built in {cacti_dir()} (run: qsnn-mem cacti build)")
    with tempfile.TemporaryDirectory(prefix="cacti-") as tmp:
        infile = Path(tmp) / "sram.cfg"
        infile.write_text(config_text(cfg))
        # CACTI reads tech_params/ relative to the working folder, so run it from its own folder.
        done = subprocess.run(
            [str(binary_path()), "-infile", str(infile)],
            cwd=cacti_dir(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        out = Path(str(infile) + ".out")
        if done.returncode >= 0 and not out.is_file():
            # "ERROR: no valid data array organizations found", "Cache size must >=64", ...:
            # CACTI rejected the array itself (too small for its bank count); cacti.query()
            # falls back.
            raise CactiFailed(cfg)
        if done.returncode != 0 or not out.is_file():
            last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            raise QsnnError(f"CACTI failed on {cfg} (exit {done.returncode}): {last[0]}")
        return _parse_csv(out.read_text(), cfg)


def _parse_csv(text: str, cfg: SramConfig) -> SramCost:
    lines = [line for line in text.splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    values = [v.strip() for v in lines[-1].split(",")]
    row = dict(zip(header, values, strict=False))
    try:
        return SramCost(
            read_J=float(row["Dynamic read energy (nJ)"]) * 1e-9,
            write_J=float(row["Dynamic write energy (nJ)"]) * 1e-9,
            leak_W=float(row["Standby leakage per bank(mW)"]) * 1e-3 * cfg.banks,
            area_m2=float(row["Area (mm2)"]) * 1e-6,
            cycle_s=float(row["Random cycle time (ns)"]) * 1e-9,
            source="cacti7",
        )
    except (KeyError, ValueError) as exc:
        raise QsnnError(f"cannot parse CACTI output for {cfg}: {exc}") from None


def _cache_file(cfg_text: str) -> Path:
    key = hashlib.sha256((CACTI_ID + "\n" + cfg_text).encode()).hexdigest()[:24]
    return cache_root() / "cacti-results" / f"{key}.json"


def cached_run(cfg: SramConfig) -> SramCost:
    """run_raw() with an on-disk cache keyed by the configuration text and the CACTI version."""
    file = _cache_file(config_text(cfg))
    if file.is_file():
        data = json.loads(file.read_text())
        if data.get("failed"):
            raise CactiFailed(cfg)
        return SramCost(**data["cost"])
    try:
        cost = run_raw(cfg)
    except CactiFailed:
        write_json(file, {"failed": True})
        raise
    write_json(file, {"cost": asdict(cost)})
    return cost
