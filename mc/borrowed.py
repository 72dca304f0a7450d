"""Borrowed views: a kernel's arrays without reference counting, for the length of one call.

numba counts references to every array it hands around (an atomic add on a
counter shared by every thread that uses the array).  A kernel that passes
arrays and tuples of arrays to helpers in its inner loops would spend most of
its time there.  :func:`borrow`, called once at the top of a kernel, returns
the same arrays (and tuples and named tuples of them) with their reference
counter detached: the same memory, no counting.  The caller's owning
references keep the memory alive until the kernel returns, and the borrowed
views must not escape it (they are never returned or stored).
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _detach(context, builder, typ, value):
    if isinstance(typ, types.Array):
        array = context.make_array(typ)(context, builder, value=value)
        array.meminfo = cgutils.get_null_value(array.meminfo.type)
        array.parent = cgutils.get_null_value(array.parent.type)
        return array._getvalue()
    if isinstance(typ, types.BaseTuple):
        for i, item_type in enumerate(typ):
            item = _detach(context, builder, item_type, builder.extract_value(value, i))
            value = builder.insert_value(value, item, i)
        return value
    return value


@intrinsic
def borrow(typingctx, value):
    """The value with every array in it (recursively through tuples) detached from its reference count."""

    def codegen(context, builder, signature, args):
        return _detach(context, builder, signature.args[0], args[0])

    return value(value), codegen
