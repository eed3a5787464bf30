"""Plain-Python QP helpers for ``engine.kinds.kkt_qp``: its validation and independent check.

Same symbols as the kind: minimise ½ xᵀQx + cᵀx subject to Gx ≤ h and Ax = b, with
multipliers λ ≥ 0 (inequalities) and ν (equalities). Linear systems are solved by Gaussian
elimination written out here, never by torch. ``qp_reference`` tries active sets (used by
``clean`` and ``is_degenerate``); ``hildreth_reference`` solves the dual by coordinate
ascent, a different algorithm, and is the kind's ``check``.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

REL_TOL = 1e-9  # feasibility / activity, relative to the size of the data
PIVOT_TOL = 1e-12
MAX_SWEEPS = 20000


def _mat_vec(M: list[list[float]], v: list[float]) -> list[float]:
    return [sum(mij * vj for mij, vj in zip(row, v, strict=True)) for row in M]


def _lin_solve(K: list[list[float]], r: list[float]) -> list[float] | None:
    """K z = r by Gaussian elimination with partial pivoting; None if K is singular."""
    n = len(r)
    M = [list(row) + [ri] for row, ri in zip(K, r, strict=True)]
    floor = PIVOT_TOL * max(1.0, max(abs(v) for row in K for v in row))
    for col in range(n):
        piv = max(range(col, n), key=lambda i: abs(M[i][col]))
        if abs(M[piv][col]) <= floor:
            return None
        M[col], M[piv] = M[piv], M[col]
        for i in range(col + 1, n):
            f = M[i][col] / M[col][col]
            for j in range(col, n + 1):
                M[i][j] -= f * M[col][j]
    z = [0.0] * n
    for i in reversed(range(n)):
        z[i] = (M[i][n] - sum(M[i][j] * z[j] for j in range(i + 1, n))) / M[i][i]
    return z


def eq_rows(p: dict[str, Any]) -> tuple[list[list[float]], list[float]]:
    """A and b, empty when there are no equality constraints."""
    return (p["A"] or [], p["b"] or [])


def tolerance(p: dict[str, Any]) -> float:
    """Feasibility and activity tolerance: REL_TOL times the size of the data."""
    values = [abs(v) for key in ("Q", "G", "A") for row in (p[key] or []) for v in row]
    values += [abs(v) for key in ("c", "h", "b") for v in (p[key] or [])]
    return REL_TOL * (1 + max(values))


def kkt_point(p: dict[str, Any], S: tuple[int, ...]) -> tuple[list[float], list[float],
                                                             list[float]] | None:
    """x, ν and λ_S with the inequalities S held as equalities (Python elimination)."""
    Q, c, G, h = p["Q"], p["c"], p["G"], p["h"]
    A, b = eq_rows(p)
    rows = A + [G[i] for i in S]
    rhs = b + [h[i] for i in S]
    d, k = len(c), len(rows)
    K = [Q[i] + [rows[j][i] for j in range(k)] for i in range(d)]
    K += [rows[j] + [0.0] * k for j in range(k)]
    z = _lin_solve(K, [-ci for ci in c] + rhs)
    if z is None:
        return None
    return z[:d], z[d:d + len(A)], z[d + len(A):]


def full_lambda(m: int, S: tuple[int, ...], lam_S: list[float]) -> list[float]:
    lam = [0.0] * m
    for i, v in zip(S, lam_S, strict=True):
        lam[i] = v
    return lam


def slacks(p: dict[str, Any], x: list[float]) -> list[float]:
    return [hi - gx for hi, gx in zip(p["h"], _mat_vec(p["G"], x), strict=True)]


def qp_reference(p: dict[str, Any]) -> dict[str, Any] | None:
    """The KKT point by trying every active set in plain Python; None if there is none."""
    m, d, tol = len(p["h"]), len(p["c"]), tolerance(p)
    for size in range(0, min(m, d - len(eq_rows(p)[0])) + 1):
        for S in combinations(range(m), size):
            point = kkt_point(p, S)
            if point is None:
                continue
            x, nu, lam_S = point
            if min(slacks(p, x), default=0.0) >= -tol and min(lam_S, default=0.0) >= -tol:
                return answer(p, x, full_lambda(m, S, lam_S), nu)
    return None


def answer(p: dict[str, Any], x: list[float], lam: list[float], nu: list[float]) -> dict[str, Any]:
    Qx = _mat_vec(p["Q"], x)
    objective = 0.5 * sum(a * b for a, b in zip(x, Qx, strict=True)) + sum(
        a * b for a, b in zip(p["c"], x, strict=True))
    active = [int(s <= tolerance(p)) for s in slacks(p, x)]
    return {"x": x, "objective": objective, "lambda": lam, "nu": nu, "active": active}


def hildreth_reference(p: dict[str, Any]) -> dict[str, Any]:
    """The KKT point from the dual, by Hildreth's coordinate ascent (a different algorithm).

    The dual of the QP is min_y ½ yᵀ P y + eᵀ y over y = (λ, ν), λ ≥ 0, with M = [G; A],
    P = M Q⁻¹ Mᵀ, e = M Q⁻¹ c + (h, b); then x = −Q⁻¹(c + Mᵀ y). Every 20 sweeps the
    constraints with λ_i > 0 are taken as the active set and the KKT system is solved
    exactly; the iteration stops once that point satisfies every KKT condition.
    """
    Q, c, G, h = p["Q"], p["c"], p["G"], p["h"]
    A, b = eq_rows(p)
    d, m = len(c), len(h)
    M, r = G + A, h + b
    Qinv_cols = [_lin_solve(Q, [float(i == j) for i in range(d)]) for j in range(d)]
    Qinv = [[Qinv_cols[j][i] for j in range(d)] for i in range(d)]  # type: ignore[index]
    QiMt = [_mat_vec(Qinv, row) for row in M]  # Q⁻¹ M_jᵀ, one per constraint
    P = [[sum(a * b for a, b in zip(M[i], QiMt[j], strict=True)) for j in range(len(M))]
         for i in range(len(M))]
    Qic = _mat_vec(Qinv, c)
    e = [sum(a * b for a, b in zip(M[i], Qic, strict=True)) + r[i] for i in range(len(M))]
    y = [0.0] * len(M)
    tol = tolerance(p)
    for sweep in range(1, MAX_SWEEPS + 1):
        for i in range(len(M)):
            g = sum(P[i][j] * y[j] for j in range(len(M))) + e[i]
            y[i] -= g / P[i][i]
            if i < m:  # inequality multipliers stay non-negative
                y[i] = max(0.0, y[i])
        if sweep % 20 == 0 or sweep == MAX_SWEEPS:
            S = tuple(i for i in range(m) if y[i] > 1e3 * tol * max(1.0, max(y)))
            point = kkt_point(p, S)
            if point is not None:
                x, nu, lam_S = point
                if min(slacks(p, x), default=0.0) >= -tol and min(lam_S, default=0.0) >= -tol:
                    return answer(p, x, full_lambda(m, S, lam_S), nu)
    x = [-(qc + sum(QiMt[j][i] * y[j] for j in range(len(M)))) for i, qc in enumerate(Qic)]
    return answer(p, x, y[:m], y[m:])
