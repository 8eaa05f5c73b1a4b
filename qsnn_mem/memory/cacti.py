"""The real CACTI 7: build it from the hwcomponents-cacti wheel's sources, run it, cache results.

CACTI's sources and technology files ship inside the ``hwcomponents-cacti`` wheel (the wheel's own
binary needs a newer glibc than ours, its Python package needs Python 3.12; we use neither). The
build downloads that wheel with pip, unpacks it into the user cache folder and runs ``make opt``.

One SRAM is described by :class:`SramConfig`; :func:`query` returns its :class:`SramCost` (SI
units) by the rules in its docstring (docs/sram.md): CACTI at its calibrated nodes only, widths
between powers of two interpolated, words below 8 bits priced as 8-bit words of the same
capacity, capacities between powers of two interpolated between CACTI's own optima made
non-decreasing in size, and a fallback where CACTI finds no organisation. Every CACTI run is
cached on disk by its input text, so a configuration runs once.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..errors import QsnnError
from ..io import ensure_dir, write_json

WHEEL_NAME = "hwcomponents-cacti"
WHEEL_VERSION = "1.0.40"
CACTI_ID = f"cacti7-{WHEEL_NAME}-{WHEEL_VERSION}"
NODES_NM = (22, 32, 45, 65, 90)  # CACTI 7's technology files; query() interpolates between them
MAX_FALLBACK_DOUBLINGS = 6
MIN_CAPACITY_BITS = 1024  # smaller arrays are scaled from this size (query(), rule 3)
MIN_EXP = MIN_CAPACITY_BITS.bit_length() - 1  # the first power of two CACTI is run at
MIN_WORD_BITS = 8  # narrower words are priced as 8-bit words of the same capacity (rule 2)
SMALL_ENERGY_EXP = 0.78  # energy ∝ capacity^0.78 when scaling sizes (hwcomponents-cacti's rule)

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
# Made non-decreasing in capacity (rule 3); cycle time is left as CACTI gives it.
MONOTONE = ("read_J", "write_J", "leak_W", "area_m2")


class CactiFailed(Exception):
    """CACTI ran but found no organisation for the configuration (internal; see query())."""


def cache_root() -> Path:
    """``$QSNN_MEM_CACHE`` or ``~/.cache/qsnn-mem``: where CACTI is built and results cached."""
    env = os.environ.get("QSNN_MEM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "qsnn-mem"


def cacti_dir() -> Path:
    return cache_root() / CACTI_ID


def binary_path() -> Path:
    return cacti_dir() / "cacti"


def is_built() -> bool:
    exe = binary_path()
    return exe.is_file() and os.access(exe, os.X_OK)


def build(wheel: Path | None = None, force: bool = False, jobs: int = 2) -> Path:
    """Build CACTI 7 into the cache folder and return the binary's path.

    ``wheel`` is an already downloaded ``hwcomponents_cacti-*.whl``; without it pip downloads it.
    """
    if is_built() and not force:
        return binary_path()
    for tool in ("make", "g++"):
        if shutil.which(tool) is None:
            raise QsnnError(f"cannot build CACTI: '{tool}' not found (install a C++ toolchain)")
    root = ensure_dir(cache_root())
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        wheel = wheel or _download_wheel(Path(tmp))
        if not Path(wheel).is_file():
            raise QsnnError(f"--wheel {wheel}: file not found")
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith("hwcomponents_cacti/cacti/")]
            if not members:
                raise QsnnError(
                    f"{wheel}: no CACTI sources inside (expected hwcomponents_cacti/cacti/)"
                )
            archive.extractall(tmp, members)
        src = Path(tmp) / "hwcomponents_cacti" / "cacti"
        (src / "cacti").unlink(missing_ok=True)  # the shipped binary needs glibc 2.38
        shutil.rmtree(src / "obj_opt", ignore_errors=True)
        done = subprocess.run(
            ["make", f"-j{jobs}", "opt"], cwd=src, capture_output=True, text=True, check=False
        )
        built = src / "obj_opt" / "cacti"
        if done.returncode != 0 or not built.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise QsnnError("building CACTI failed: " + " | ".join(tail))
        target = cacti_dir()
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(src), target)
        shutil.copy2(target / "obj_opt" / "cacti", binary_path())
        binary_path().chmod(0o755)
    return binary_path()


def _download_wheel(folder: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--python-version",
        "3.12",
        f"{WHEEL_NAME}=={WHEEL_VERSION}",
        "-d",
        str(folder),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(folder.glob("hwcomponents_cacti-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise QsnnError(
            f"cannot download {WHEEL_NAME}=={WHEEL_VERSION} with pip: {last[0]} "
            "(offline? pass --wheel PATH to a downloaded wheel)"
        )
    return wheels[0]


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
            # CACTI rejected the array itself (too small for its bank count); query() falls back.
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


def query(cfg: SramConfig) -> SramCost:
    """The cost of ``cfg`` from CACTI 7, following four documented rules (docs/sram.md).

    1. **Nodes.** CACTI is run only at its calibrated nodes (22, 32, 45, 65, 90 nm); between
       two, every output is interpolated linearly in the node (as hwcomponents-cacti does).
    2. **Widths.** A width between two powers of two is priced at both, at the same depth, and
       interpolated geometrically (log value linear in log width). A word below 8 bits is one
       column-muxed slice of a row: each access still drives a whole word line and swings
       every bitline on it, so a w-bit array of depth D costs what CACTI gives for the same
       capacity D·w in 8-bit words.
    3. **Capacities.** CACTI's own optima at the powers of two from 1 kbit up are made
       non-decreasing in capacity (a running maximum of read and write energy, leakage and
       area; its ED²-optimal choice is occasionally cheaper at a larger size), and a capacity
       between two powers of two is interpolated geometrically between them (log value linear
       in log capacity), so cost is continuous in capacity. Cycle time is interpolated the
       same way between CACTI's own values. Arrays below 1 kbit are priced from 1 kbit:
       energy ∝ capacity^0.78, area and leakage ∝ capacity (hwcomponents-cacti's rule).
    4. **Fallback.** Where CACTI finds no organisation at a power of two (small arrays in many
       banks) the capacity is doubled until it does (at most 6 times) and scaled back by rule
       3's exponents.
    """
    if not NODES_NM[0] <= cfg.node_nm <= NODES_NM[-1]:
        raise QsnnError(
            f"tech node {cfg.node_nm} nm is outside CACTI 7's range "
            f"({NODES_NM[0]}-{NODES_NM[-1]} nm)"
        )
    if cfg.node_nm in NODES_NM:
        return _query_at_node(cfg)
    hi = min(n for n in NODES_NM if n > cfg.node_nm)
    lo = max(n for n in NODES_NM if n < cfg.node_nm)
    t = (cfg.node_nm - lo) / (hi - lo)
    a = _query_at_node(replace(cfg, node_nm=lo))
    b = _query_at_node(replace(cfg, node_nm=hi))
    mixed = {f: (1 - t) * getattr(a, f) + t * getattr(b, f) for f in QUANTITIES}
    return SramCost(**mixed, source=_joined(a.source, b.source))


def _query_at_node(cfg: SramConfig) -> SramCost:
    """Rule 2 at a calibrated node."""
    depth = max(1, -(-cfg.capacity_bits // cfg.word_bits))

    def at_width(word: int, capacity: int) -> SramCost:
        return capacity_cost(cfg.node_nm, capacity, word, cfg.banks, cfg.ports)

    if cfg.word_bits < MIN_WORD_BITS:
        return at_width(MIN_WORD_BITS, depth * cfg.word_bits)
    lo = 1 << (cfg.word_bits.bit_length() - 1)
    low = at_width(lo, depth * lo)
    if lo == cfg.word_bits:
        return low
    high = at_width(2 * lo, depth * 2 * lo)
    return _geometric(low, high, math.log2(cfg.word_bits / lo))


def capacity_cost(
    node_nm: float, capacity_bits: int, word_bits: int, banks: int, ports: int
) -> SramCost:
    """Rule 3 at a calibrated node and power-of-two width of at least 8 bits."""
    capacity = max(capacity_bits, MIN_CAPACITY_BITS)
    x = math.log2(capacity)
    k = math.floor(x)
    sizes = envelope(node_nm, word_bits, banks, ports, math.ceil(x))
    low = sizes[k - MIN_EXP]
    cost = low if x == k else _geometric(low, sizes[k + 1 - MIN_EXP], x - k)
    if capacity_bits >= MIN_CAPACITY_BITS:
        return cost
    source = cost.source if cost.source != "cacti7" else f"cacti7 scaled from {capacity} bits"
    return _size_scaled(cost, capacity_bits / capacity, source)


def envelope(
    node_nm: float, word_bits: int, banks: int, ports: int, top_exp: int
) -> list[SramCost]:
    """CACTI's optima at 2^MIN_EXP..2^top_exp bits, each :data:`MONOTONE` quantity raised to
    the largest value at any smaller power of two (a running maximum), cycle time as it is."""
    sizes: list[SramCost] = []
    for k in range(MIN_EXP, top_exp + 1):
        cost = optimum(node_nm, 1 << k, word_bits, banks, ports)
        if sizes:
            least = {q: max(getattr(cost, q), getattr(sizes[-1], q)) for q in MONOTONE}
            raised = any(least[q] > getattr(cost, q) for q in MONOTONE)
            source = f"{cost.source}, raised to a smaller size's" if raised else cost.source
            cost = replace(cost, **least, source=source)
        sizes.append(cost)
    return sizes


def optimum(node_nm: float, capacity: int, word_bits: int, banks: int, ports: int) -> SramCost:
    """CACTI's own choice at ``capacity`` bits (a power of two), doubled per rule 4 until CACTI
    finds one and scaled back by rule 3's exponents: one row of the committed table."""
    for doubling in range(MAX_FALLBACK_DOUBLINGS + 1):
        try:
            cost = cached_run(SramConfig(node_nm, capacity << doubling, word_bits, banks, ports))
        except CactiFailed:
            continue
        if not doubling:
            return cost
        return _size_scaled(cost, 0.5**doubling, f"cacti7 fallback x{1 << doubling}")
    raise QsnnError(
        f"CACTI found no valid organisation for {capacity} bits in {word_bits}-bit words, "
        f"{banks} banks, {ports} ports at {node_nm:g} nm even at "
        f"{2**MAX_FALLBACK_DOUBLINGS}x the capacity (try fewer banks)"
    )


def _geometric(low: SramCost, high: SramCost, t: float) -> SramCost:
    """log value linear in ``t`` from ``low`` (t = 0) to ``high`` (t = 1)."""
    mixed = {f: getattr(low, f) ** (1 - t) * getattr(high, f) ** t for f in QUANTITIES}
    return SramCost(**mixed, source=_joined(low.source, high.source))


def _joined(a: str, b: str) -> str:
    return a if a == b else f"{a}; {b}"


def _size_scaled(cost: SramCost, ratio: float, source: str) -> SramCost:
    """``cost`` scaled to ``ratio`` times the capacity: energy ∝ ratio^0.78, area and leakage ∝
    ratio, cycle time unchanged (hwcomponents-cacti's rule)."""
    energy = ratio**SMALL_ENERGY_EXP
    return SramCost(
        read_J=cost.read_J * energy,
        write_J=cost.write_J * energy,
        leak_W=cost.leak_W * ratio,
        area_m2=cost.area_m2 * ratio,
        cycle_s=cost.cycle_s,
        source=source,
    )
