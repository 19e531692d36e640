#!/usr/bin/python3
"""Reference numbers for tests/objective/test_functions_test.cpp.

Run with /usr/bin/python3 (numpy + scipy from Debian):
    /usr/bin/python3 tests/objective/reference_values.py
Everything printed here is pasted into the test (and Currin's maximum into
src/objective/test_functions.cpp). The formulas are written out independently of the C++
code, from the definitions in Surjanovic & Bingham's Virtual Library of Simulation
Experiments (https://www.sfu.ca/~ssurjano/) and, for the multi-fidelity variants, from
Kandasamy et al.'s code (MF-GP-UCB, kirthevasank/mf-gp-ucb; BOCA, dragonfly).
"""
import numpy as np
from scipy.optimize import minimize, minimize_scalar

np.set_printoptions(precision=17)


def branin_p(x1, x2, b, c, t):
    return (x2 - b * x1**2 + c * x1 - 6.0)**2 + 10.0 * (1.0 - t) * np.cos(x1) + 10.0


B0, C0, T0 = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)


def branin(x1, x2):
    return branin_p(x1, x2, B0, C0, T0)


def currin(x1, x2):
    f = 1.0 if x2 <= 0 else 1.0 - np.exp(-0.5 / x2)
    return f * (2300 * x1**3 + 1900 * x1**2 + 2092 * x1 + 60) / (100 * x1**3 + 500 * x1**2 + 4 * x1 + 20)


def currin_low(x1, x2):
    return 0.25 * (currin(x1 + 0.05, x2 + 0.05) + currin(x1 + 0.05, max(0.0, x2 - 0.05))
                   + currin(x1 - 0.05, x2 + 0.05) + currin(x1 - 0.05, max(0.0, x2 - 0.05)))


def gramacy_lee(x):
    return np.sin(10 * np.pi * x) / (2 * x) + (x - 1)**4


ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
A3 = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
# p41 = 0.03815 as in Dixon & Szego (1978); the SFU library rounds it to 0.0381, whose minimum is
# -3.8627797873 instead of -3.86278214782076.
P3 = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381.5, 5743, 8828]])
A6 = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
P6 = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])


def hartmann(x, A, P, alpha=ALPHA):
    x = np.asarray(x)
    return -float(np.sum(alpha * np.exp(-np.sum(A * (x - P)**2, axis=1))))


def polish(f, x0, bounds):
    r = minimize(f, x0, method="L-BFGS-B", bounds=bounds, options=dict(ftol=1e-16, gtol=1e-13, maxiter=10000))
    r = minimize(f, r.x, method="Nelder-Mead", options=dict(xatol=1e-13, fatol=1e-16, maxiter=100000))
    return r.x, r.fun


def main():
    print("== Currin exponential: maximum (we minimise -currin) ==")
    # A 401 x 401 grid over the whole square finds the maximum on the edge x2 = 0 (the factor
    # 1 - exp(-1/(2 x2)) decreases in x2 towards 1 at x2 = 0); then refine along x1 at x2 = 0.
    g = np.linspace(0, 1, 401)
    best = max((currin(a, b), a, b) for a in g for b in g)
    print("grid max %.17g at (%g, %g)" % best)
    r = minimize_scalar(lambda a: -currin(a, 0.0), bounds=(0, 1), method="bounded", options=dict(xatol=1e-14))
    print("refined: x1 = %.17g, max = %.17g" % (r.x, -r.fun))

    print("== Gramacy & Lee ==")
    r = minimize_scalar(gramacy_lee, bounds=(0.5, 0.6), method="bounded", options=dict(xatol=1e-14))
    print("x = %.17g f = %.17g  u = %.17g" % (r.x, r.fun, (r.x - 0.5) / 2.0))

    print("== Branin minimizers (unit cube) and values ==")
    for x in [(-np.pi, 12.275), (np.pi, 2.275), (3 * np.pi, 2.475)]:
        print("u = (%.17g, %.17g) f = %.17g" % ((x[0] + 5) / 15, x[1] / 15, branin(*x)))

    print("== Hartmann3 ==")
    x, f = polish(lambda x: hartmann(x, A3, P3), [0.114614, 0.555649, 0.852547], [(0, 1)] * 3)
    print("x =", repr(x), "f = %.17g" % f)
    print("== Hartmann6 ==")
    x, f = polish(lambda x: hartmann(x, A6, P6), [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
                  [(0, 1)] * 6)
    print("x =", repr(x), "f = %.17g" % f)

    print("== values at other points (unit cube u -> value) ==")
    pts2 = [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0), (0.2, 0.7)]
    for u in pts2:
        x1, x2 = -5 + 15 * u[0], 15 * u[1]
        print("branin", u, "%.17g" % branin(x1, x2))
    for u in pts2:
        print("currin(neg)", u, "%.17g" % -currin(*u))
    for u in [0.0, 0.25, 0.5, 1.0]:
        print("gramacy_lee", u, "%.17g" % gramacy_lee(0.5 + 2 * u))
    for u in [(0.5, 0.5, 0.5), (0.1, 0.2, 0.3)]:
        print("hartmann3", u, "%.17g" % hartmann(u, A3, P3))
    for u in [(0.5,) * 6, (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]:
        print("hartmann6", u, "%.17g" % hartmann(u, A6, P6))

    print("== multi-fidelity low fidelities at a point ==")
    u = (0.2, 0.7)
    x1, x2 = -5 + 15 * u[0], 15 * u[1]
    print("branin_mf M=2 low", u, "%.17g" % branin_p(x1, x2, B0 - 0.01, C0 - 0.1, T0 + 0.005))
    print("branin_mf M=3 mid", u, "%.17g" % branin_p(x1, x2, B0 - 0.005, C0 - 0.05, T0 + 0.0025))
    print("currin_mf low(neg)", u, "%.17g" % -currin_low(*u))
    d3 = np.array([0.01, -0.01, -0.1, 0.1])
    print("hartmann3_mf M=2 low (0.1,0.2,0.3) %.17g" % hartmann((0.1, 0.2, 0.3), A3, P3, ALPHA + d3))
    print("hartmann3_mf M=3 low (0.1,0.2,0.3) %.17g" % hartmann((0.1, 0.2, 0.3), A3, P3, ALPHA + 2 * d3))
    print("hartmann6_mf M=2 low (0.1..0.6) %.17g" % hartmann((0.1, 0.2, 0.3, 0.4, 0.5, 0.6), A6, P6,
                                                            ALPHA + 0.1 * d3))


main()
