"""Tensors and autograd (d2l ch. 2) with the notes' snippets: creation, reshaping,
concatenation, memory semantics checked with id(), clone, torch.dot gradients,
detach, and the gradient of a function with Python control flow.
Every step is checked; the script ends with "all checks passed".

    python examples/preliminaries.py
"""
import numpy as np

import chainrule as torch


def section(title):
    print(f"\n== {title} ==")


def tensors():
    section("tensors")
    x = torch.arange(12)
    print(x)
    print(x.shape)
    print(x.numel())  # number of elements
    assert x.shape == (12,) and x.numel() == 12
    x = x.reshape(2, 6)
    print(x)
    print(torch.zeros(3, 4))
    print(torch.zeros_like(x))
    print(torch.ones_like(x))
    x = torch.tensor([[1, 2, 3], [4, 5, 6.]])  # from a list
    print(x)
    assert x.dtype == torch.float32

    section("concatenation")
    x = torch.arange(12.).reshape(3, 4)
    y = x + 12
    print(torch.cat((x, y), dim=0))
    print(torch.cat((x, y), dim=1))
    assert torch.cat((x, y), dim=0).shape == (6, 4)
    assert torch.cat((x, y), dim=1).shape == (3, 8)

    section("broadcasting, indexing, conversion")
    a = torch.arange(3).reshape((3, 1))
    b = torch.arange(2).reshape((1, 2))
    print(a + b)
    assert (a + b).shape == (3, 2)
    X = torch.arange(12, dtype=torch.float32).reshape((3, 4))
    print(X[-1], X[1:3])
    X[0:2, :] = 12
    print(X)
    A = X.numpy()
    B = torch.tensor(A)
    print(type(A), type(B))
    t = torch.tensor([3.5])
    print(t, t.item(), float(t), int(t))
    assert isinstance(A, np.ndarray) and isinstance(B, torch.Tensor)


def memory():
    section("memory: x = x + 12 makes a new tensor")
    x = torch.arange(12.).reshape(3, 4)
    before = id(x)
    x = x + 12
    print(before == id(x))
    assert before != id(x)

    section("memory: x[:] = x + 12 writes in place")
    x = torch.arange(12.).reshape(3, 4)
    before = id(x)
    x[:] = x + 12
    print(before == id(x))
    assert before == id(x)

    section("memory: x += 1 is in place too")
    before = id(x)
    x += 1
    assert before == id(x)

    section("assignment shares the tensor")
    x = torch.arange(12.).reshape(3, 4)
    y = x
    y += 10
    print(id(x) == id(y))
    print(x)
    assert id(x) == id(y) and float(x[0, 0]) == 10

    section("clone copies")
    x = torch.arange(12.).reshape(3, 4)
    y = x.clone()
    y += 10
    print(id(x) == id(y))
    print(x)
    assert id(x) != id(y) and float(x[0, 0]) == 0


def gradients():
    section("gradient of y = x . x")
    x = torch.arange(4.)
    print(x, x.requires_grad)
    x = x.requires_grad_(True)
    print(x)
    y = torch.dot(x, x)
    print(y)
    print(x.grad)
    assert x.grad is None
    y.backward()
    print(x.grad)
    print(x.grad == 2 * x)
    assert (x.grad == 2 * x).all()
    x.grad.zero_()
    print(x.grad)

    section("y = x.sum(): the gradient is all ones")
    y = x.sum()
    y.backward()
    print(x.grad)
    assert (x.grad == 1).all()

    section("non-scalar y: backward of y.sum()")
    x.grad.zero_()
    y = x * x
    y.sum().backward()  # same as y.backward(torch.ones(len(x)))
    print(x.grad)
    assert (x.grad == 2 * x).all()

    section("detach: u is a constant for the gradient")
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    print(x.grad == u)
    assert (x.grad == u).all()
    x.grad.zero_()
    y.sum().backward()
    assert (x.grad == 2 * x).all()

    section("gradient through Python control flow")

    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c

    a = torch.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    print(a.grad, d / a)
    # f is piecewise linear in a, so the gradient is d / a
    assert torch.allclose(a.grad, (d / a).detach())


def main():
    torch.manual_seed(0)
    tensors()
    memory()
    gradients()
    print("\nall checks passed")


if __name__ == "__main__":
    main()
