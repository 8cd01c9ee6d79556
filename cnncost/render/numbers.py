"""Number formatting: exact integers with separators, and scaled figures with their unit."""

from __future__ import annotations

_PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def grouped(n: int) -> str:
    """15470264320 → '15,470,264,320' (exact)."""
    return f"{n:,}"


def scaled(n: int | float, unit: str = "") -> str:
    """15470264320 → '15.47 G' plus the unit; decimal prefixes, two decimals."""
    for size, prefix in _PREFIXES:
        if abs(n) >= size:
            return f"{n / size:.2f} {prefix}{unit}".rstrip()
    return f"{n} {unit}".rstrip()


def byte_size(n: int) -> str:
    """Bytes with a decimal prefix (1 MB = 10⁶ bytes), as the lecture decks count them."""
    for size, prefix in ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB")):
        if n >= size:
            return f"{n / size:,.2f} {prefix}"
    return f"{n} B"


def ratio(value: int, base: int) -> str:
    if base == 0:
        return "—" if value == 0 else "∞"
    return f"×{value / base:.3g}"


def shape(dims: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in dims) if dims else "scalar"
