"""A small convex quadratic programme solved through its KKT conditions.

Symbols, as printed in the steps:
    x         the d variables (d ≤ 4)              Q, c   objective ½ xᵀQx + cᵀx, Q ≻ 0
    G, h      m ≤ 6 inequalities Gx ≤ h            A, b   optional equalities Ax = b (≤ 2)
    λ         multipliers of the inequalities      ν      multipliers of the equalities
    S         the active set: inequalities with G_i x = h_i at the optimum

Lagrangian L(x, λ, ν) = ½ xᵀQx + cᵀx + λᵀ(Gx − h) + νᵀ(Ax − b), λ ≥ 0. Q is positive definite,
so the problem is strictly convex and the KKT point is the unique minimiser. Parameters whose
active constraints are linearly dependent (multipliers not unique) or which have no feasible
point are refused.
"""

from __future__ import annotations

import random
from itertools import combinations
from typing import Any

import torch

from engine.kinds import kkt_qp_reference as ref
from engine.kinds.gaussian import cholesky
from engine.params import Array
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_VARS = 4
MAX_INEQ = 6
MAX_EQ = 2
VALUE_LIMIT = 1e3
MARGIN = 0.1  # sampled variants: active multipliers and inactive slacks at least this


@register("kkt_qp")
class KKTQuadraticProgram(Kind):
    r"""Minimise ½ xᵀQx + cᵀx subject to Gx ≤ h (and Ax = b) via the KKT conditions.

    .. math::
        Qx + c + G^\top \lambda + A^\top \nu = 0 \;\text{(stationarity)}, \quad
        Gx \le h,\; Ax = b \;\text{(primal feasibility)}, \quad
        \lambda \ge 0 \;\text{(dual feasibility)}, \quad
        \lambda_i (G_i x - h_i) = 0 \;\text{(complementary slackness)}.

    For an active set S the KKT conditions are the linear system
    :math:`\begin{pmatrix} Q & A^\top & G_S^\top \\ A & 0 & 0 \\ G_S & 0 & 0 \end{pmatrix}
    \begin{pmatrix} x \\ \nu \\ \lambda_S \end{pmatrix} =
    \begin{pmatrix} -c \\ b \\ h_S \end{pmatrix}`, with :math:`\lambda_i = 0` off S; the
    answer is the set whose solution has :math:`Gx \le h` and :math:`\lambda_S \ge 0`.
    """

    title = "Quadratic programme via KKT conditions (active constraints)"
    title_zh = "用 KKT 条件求解二次规划（活跃约束）"
    params = (
        Array("Q", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_VARS ** 2,
              help="d × d symmetric positive definite matrix of the objective"),
        Array("c", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_VARS,
              help="linear term of the objective, length d"),
        Array("G", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              max_elements=MAX_INEQ * MAX_VARS, help="m × d inequality matrix (Gx ≤ h), m ≤ 6"),
        Array("h", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_INEQ,
              help="right-hand sides of the inequalities, length m"),
        Array("A", default=None, ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              max_elements=MAX_EQ * MAX_VARS, help="optional equality matrix (Ax = b), ≤ 2 rows"),
        Array("b", default=None, ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              max_elements=MAX_EQ, help="right-hand sides of the equalities"),
    )
    answers = (
        Answer("x", AnswerType.VECTOR, "the minimiser x*"),
        Answer("objective", AnswerType.SCALAR, "½ x*ᵀQx* + cᵀx*"),
        Answer("lambda", AnswerType.VECTOR, "multiplier λ_i ≥ 0 of each inequality"),
        Answer("nu", AnswerType.VECTOR, "multiplier of each equality (empty without A)"),
        Answer("active", AnswerType.SHAPE, "1 where G_i x* = h_i (active), 0 where G_i x* < h_i"),
    )
    check_method = ("Hildreth's coordinate ascent on the dual QP in plain Python, its active "
                    "set solved exactly by Gaussian elimination once it satisfies KKT")
    conventions = (
        "Inequalities are written Gx ≤ h, i.e. G_i x − h_i ≤ 0, and enter the Lagrangian with "
        "+λ_i, so λ ≥ 0; a constraint written g(x) ≥ 0 with the term −λ g(x) gives the same λ.",
        "A constraint is active when G_i x* = h_i (within 1e-9 of the data's scale); an active "
        "constraint may still have λ_i = 0 (degenerate), sampled variants avoid that.",
        "Objective ½ xᵀQx + cᵀx, with the ½ (as in most QP solvers).",
    )

    def clean(self, p: dict[str, Any]) -> None:
        Q, c, G, h = p["Q"], p["c"], p["G"], p["h"]
        d = len(c)
        if len(Q) != d or len(Q[0]) != d:
            raise ValueError(f"parameter 'Q': must be {d} × {d} for c of length {d}, got "
                             f"{len(Q)} × {len(Q[0])}")
        if any(abs(Q[i][j] - Q[j][i]) > ref.REL_TOL * (1 + abs(Q[i][j])) for i in range(d)
               for j in range(i)):
            raise ValueError("parameter 'Q': must be symmetric")
        if cholesky(Q) is None:
            raise ValueError("parameter 'Q': must be positive definite (a strictly convex "
                             "objective); this matrix is singular, nearly singular or indefinite")
        if len(G[0]) != d:
            raise ValueError(f"parameter 'G': must have {d} columns (one per variable), "
                             f"got {len(G[0])}")
        if len(G) > MAX_INEQ:
            raise ValueError(f"parameter 'G': at most {MAX_INEQ} inequalities, got {len(G)}")
        if len(h) != len(G):
            raise ValueError(f"parameter 'h': must have one entry per row of G ({len(G)}), "
                             f"got {len(h)}")
        for i, row in enumerate(G):
            if not any(row):
                raise ValueError(f"parameter 'G': row {i} is all zeros")
        if (p["A"] is None) != (p["b"] is None):
            raise ValueError("parameter 'b': give both A and b for equality constraints, or neither")
        if p["A"] is not None:
            A, b = p["A"], p["b"]
            if len(A[0]) != d or len(A) > MAX_EQ or len(b) != len(A):
                raise ValueError(f"parameter 'A': must be k × {d} with k ≤ {MAX_EQ}, and b of "
                                 "length k")
            gram = [[sum(u * v for u, v in zip(r1, r2, strict=True)) for r2 in A] for r1 in A]
            if cholesky(gram) is None:
                raise ValueError("parameter 'A': the equality rows must be linearly independent")
        solution = ref.qp_reference(p)
        if solution is None:
            raise ValueError("parameter 'h': no point satisfies the KKT conditions: the "
                             "constraints are infeasible, or the constraints active at the "
                             "optimum are linearly dependent (multipliers not unique)")
        active = [G[i] for i in range(len(h)) if solution["active"][i]] + (p["A"] or [])
        gram = [[sum(u * v for u, v in zip(r1, r2, strict=True)) for r2 in active]
                for r1 in active]
        if active and cholesky(gram) is None:
            raise ValueError("parameter 'G': the constraints active at the optimum are linearly "
                             "dependent, so their multipliers are not unique")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        d = rng.choice([2, 2, 2, 3])
        m = rng.randint(2, 4) if d == 3 else rng.randint(2, 3)
        n_eq = 1 if d == 3 and rng.random() < 0.25 else 0
        while True:  # Q: small integers, positive definite
            Q = [[0.0] * d for _ in range(d)]
            for i in range(d):
                Q[i][i] = float(rng.randint(1, 4))
                for j in range(i):
                    Q[i][j] = Q[j][i] = float(rng.choice([-1, 0, 0, 1]))
            if cholesky(Q) is not None:
                break
        G = []
        while len(G) < m:
            row = [float(rng.randint(-2, 2)) for _ in range(d)]
            if any(row) and row not in G:
                G.append(row)
        # build the problem around a chosen optimum x*, active set S and multipliers
        x = [float(rng.randint(-2, 2)) for _ in range(d)]
        size = rng.choice([0, 1, 1, 1, 2, 2]) if d - n_eq >= 2 else rng.choice([0, 1, 1])
        S = sorted(rng.sample(range(m), size))
        lam = [float(rng.randint(1, 3)) if i in S else 0.0 for i in range(m)]
        h = [sum(g * xi for g, xi in zip(G[i], x, strict=True))
             + (0.0 if i in S else float(rng.randint(1, 3))) for i in range(m)]
        out: dict[str, Any] = {"Q": Q, "G": G, "h": h}
        grad = [sum(Q[i][j] * x[j] for j in range(d)) + sum(G[k][i] * lam[k] for k in range(m))
                for i in range(d)]
        if n_eq:
            A = [[float(rng.randint(-1, 1)) for _ in range(d)]]
            nu = float(rng.choice([-2, -1, 1, 2]))
            out["A"] = A
            out["b"] = [sum(a * xi for a, xi in zip(A[0], x, strict=True))]
            grad = [gi + A[0][i] * nu for i, gi in enumerate(grad)]
        out["c"] = [-gi + 0.0 for gi in grad]  # stationarity: Qx + c + Gᵀλ + Aᵀν = 0
        return out

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        best = ref.qp_reference(p)
        if best is None:
            return True
        for flag, lam, slack in zip(best["active"], best["lambda"], ref.slacks(p, best["x"]),
                                    strict=True):
            if (flag and lam < MARGIN) or (not flag and slack < MARGIN):
                return True  # weakly active or barely inactive: the active set is fragile
        return False

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        Q = torch.tensor(p["Q"], dtype=DTYPE, device=device)  # (d, d)
        c = torch.tensor(p["c"], dtype=DTYPE, device=device)  # (d,)
        G = torch.tensor(p["G"], dtype=DTYPE, device=device)  # (m, d)
        h = torch.tensor(p["h"], dtype=DTYPE, device=device)  # (m,)
        A = torch.tensor(p["A"] or [], dtype=DTYPE, device=device).reshape(-1, c.shape[0])
        b = torch.tensor(p["b"] or [], dtype=DTYPE, device=device)  # (k,)
        d, m, k = c.shape[0], h.shape[0], b.shape[0]
        tol = ref.tolerance(p)
        t = Trace()
        x_free = torch.linalg.solve(Q, -c)
        t.step("Unconstrained minimiser (ignoring every constraint)", "无约束最优点（忽略所有约束）",
               r"x_0 = -Q^{-1} c", x0=x_free, Gx0_minus_h=G @ x_free - h)
        tried: list[dict[str, Any]] = []
        found = None
        for S in (S for size in range(min(m, d - k) + 1) for S in combinations(range(m), size)):
            M = torch.cat([A, G[list(S)]])  # (k + |S|, d): constraints held as equalities
            if M.shape[0] and torch.linalg.matrix_rank(M) < M.shape[0]:
                continue  # dependent rows: no unique multipliers
            zeros = torch.zeros(len(M), len(M), dtype=DTYPE, device=device)
            K = torch.cat([torch.cat([Q, M.T], 1), torch.cat([M, zeros], 1)])  # KKT matrix
            z = torch.linalg.solve(K, torch.cat([-c, b, h[list(S)]]))
            x, nu, lam_S = z[:d], z[d:d + k], z[d + k:]
            primal = bool((G @ x - h <= tol).all())
            dual = bool((lam_S >= -tol).all())
            tried.append({"S": list(S), "x": x, "lambda_S": lam_S, "primal_feasible": primal,
                          "dual_feasible": dual})
            if primal and dual:
                found = S
                break
        if found is None:  # clean() found one in plain Python; rounding can still differ
            raise ValueError("parameter 'h': no active set satisfies the KKT conditions")
        S = found
        lam = torch.zeros(m, dtype=DTYPE, device=device)
        lam[list(S)] = lam_S
        t.step("Try active sets S, smallest first: solve the KKT system with G_S x = h_S",
               "从小到大尝试活跃集 S：令 G_S x = h_S 解 KKT 方程组",
               r"\begin{pmatrix} Q & A^\top & G_S^\top \\ A & 0 & 0 \\ G_S & 0 & 0 \end{pmatrix}"
               r"\begin{pmatrix} x \\ \nu \\ \lambda_S \end{pmatrix} = "
               r"\begin{pmatrix} -c \\ b \\ h_S \end{pmatrix}", tried=tried, S=list(S))
        slack = h - G @ x
        active = [int(s <= tol) for s in slack.tolist()]
        t.step("Stationarity", "平稳性", r"Q x + c + G^\top \lambda + A^\top \nu = 0",
               residual=Q @ x + c + G.T @ lam + A.T @ nu)
        t.step("Primal feasibility: every slack non-negative", "原始可行：每个松弛量非负",
               r"h - G x \ge 0,\; A x = b", slack=slack, active=active)
        t.step("Dual feasibility", "对偶可行", r"\lambda \ge 0", **{"lambda": lam})
        t.step("Complementary slackness: a positive λ_i only on an active constraint",
               "互补松弛：只有活跃约束的 λ_i 可以为正", r"\lambda_i (G_i x - h_i) = 0",
               products=lam * (G @ x - h))
        objective = 0.5 * x @ Q @ x + c @ x
        t.step("Objective at the optimum", "最优点的目标函数值",
               r"f(x^*) = \tfrac12 x^{*\top} Q x^* + c^\top x^*", objective=objective)
        return Computed({"x": x, "objective": objective, "lambda": lam, "nu": nu,
                         "active": active}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return ref.hildreth_reference(p)

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        m, d, k = len(p["h"]), len(p["c"]), len(ref.eq_rows(p)[0])
        right = ref.qp_reference(p)
        out = []
        free = ref.kkt_point(p, ())
        if free is not None:
            ans = ref.answer(p, free[0], [0.0] * m, free[1])
            out.append(Misconception(
                "ignored_inequalities", "Ignored the inequality constraints (unconstrained "
                "minimiser)", "忽略了不等式约束（直接取无约束最优点）",
                {"x": ans["x"], "objective": ans["objective"], "lambda": ans["lambda"],
                 "active": [0] * m}))
        if m + k <= d and (every := ref.kkt_point(p, tuple(range(m)))) is not None:
            ans = ref.answer(p, every[0], every[2], every[1])
            out.append(Misconception(
                "all_active", "Treated every inequality as an equality (all constraints active)",
                "把所有不等式都当成等式（认为全部约束都活跃）",
                {"x": ans["x"], "objective": ans["objective"], "lambda": ans["lambda"],
                 "active": [1] * m}))
        if right is not None:
            out.append(Misconception(
                "lambda_sign", "Wrong sign of the multipliers (λ ≤ 0 from writing −λᵀ(Gx − h))",
                "乘子符号弄反（把拉格朗日项写成 −λᵀ(Gx − h) 得到 λ ≤ 0）",
                {"lambda": [-v + 0.0 for v in right["lambda"]]}))
        return out
