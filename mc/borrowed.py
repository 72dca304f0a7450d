"""Borrowed views: a kernel's model arrays without reference counting, for the length of one call.

numba counts references to every array it passes around (an atomic add on a
shared counter).  A kernel that hands tuples of arrays to helpers in its inner
loops would spend most of its time there, and two threads would contend for
the same counters.  :func:`borrow`, called once at the top of a kernel, rebuilds
arrays (and tuples and named tuples of them) as views of the same memory that
carry no reference count; the caller's arrays keep the memory alive until the
kernel returns, and the views never escape it.
"""

from __future__ import annotations

import numba
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload


@intrinsic
def _as_pointer(typingctx, address):
    signature = types.voidptr(address)

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return signature, codegen


def borrow(value):
    """The value with every array in it replaced by a reference-count-free view (inside kernels)."""
    return value


@overload(borrow)
def _borrow(value):
    if isinstance(value, types.Array):
        if value.layout != "C":
            raise numba.core.errors.TypingError("borrow() needs C-contiguous arrays")
        dtype = value.dtype

        def borrow_array(value):
            return numba.carray(_as_pointer(value.ctypes.data), value.shape, dtype)

        return borrow_array
    if isinstance(value, types.BaseTuple) and len(value) > 0:
        items = ", ".join(f"borrow(value[{i}])" for i in range(len(value)))
        namespace = {"borrow": borrow}
        if isinstance(value, types.BaseNamedTuple):
            namespace["cls"] = value.instance_class
            source = f"def borrow_tuple(value):\n    return cls({items})"
        else:
            source = f"def borrow_tuple(value):\n    return ({items},)"
        exec(source, namespace)
        return namespace["borrow_tuple"]
    return lambda value: value
