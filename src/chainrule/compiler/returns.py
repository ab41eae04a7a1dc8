"""Whether a value taken out of a tensor (`loss.item()`, `preds.tolist()`) goes straight
into the compiled function's return value.

Such a value is not a dependency of the call: each replay computes it again from its
buffer, so it need not be guarded (a loss changes every step). Any other use (a name it
is stored under, an argument, a comparison) may steer Python code the replay does not
run, so the value is guarded instead. Read from the bytecode after the call that made
the value: only loads, zero-argument method calls on other objects and tuple, list or
dict displays may come before the return."""
import dis
import sys

_NEW_CALLS = sys.version_info >= (3, 11)
_PUSH = {"LOAD_FAST": 1, "LOAD_DEREF": 1, "LOAD_CONST": 1, "LOAD_CLOSURE": 1,
         "LOAD_FAST_CHECK": 1, "PUSH_NULL": 1, "LOAD_NAME": 1}
_NOTHING = {"CACHE", "NOP", "PRECALL", "EXTENDED_ARG", "KW_NAMES"}
_cache = {}


def _stack_change(ins):
    """(items popped, items pushed) for the instructions allowed here, else None."""
    op, arg = ins.opname, ins.arg or 0
    if op in _PUSH:
        return 0, 1
    if op in _NOTHING:
        return 0, 0
    if op == "LOAD_GLOBAL":
        return 0, 1 + (arg & 1 if _NEW_CALLS else 0)
    if op == "LOAD_ATTR":
        return 1, 1 + (arg & 1 if sys.version_info >= (3, 12) else 0)
    if op == "LOAD_METHOD":
        return 1, 2
    if op == "CALL" or op == "CALL_METHOD":
        return arg + 2, 1
    if op == "CALL_FUNCTION":
        return arg + 1, 1
    if op in ("BUILD_TUPLE", "BUILD_LIST"):
        return arg, 1
    if op == "BUILD_MAP":
        return 2 * arg, 1
    if op == "BUILD_CONST_KEY_MAP":
        return arg + 1, 1
    return None


def fate(code, lasti):
    """'returned' when the value the call at `lasti` made is returned as it is (alone or
    in a tuple, list or dict), 'argument' when the next thing to use it is a call that
    takes it as an argument, else None."""
    key = (code, lasti)
    if key not in _cache:
        _cache[key] = _fate(code, lasti)
    return _cache[key]


def _fate(code, lasti):
    above = 0   # stack items above the value
    for ins in dis.get_instructions(code):
        if ins.offset <= lasti:
            continue
        if ins.opname == "RETURN_VALUE":
            return "returned" if above == 0 else None
        change = _stack_change(ins)
        if change is None:
            return None
        popped, pushed = change
        if popped > above:
            if ins.opname.startswith("BUILD_"):
                above = 0      # now inside the display, which goes on the same way
                continue
            arguments = popped - (1 if ins.opname == "CALL_FUNCTION" else 2)
            return "argument" if ins.opname.startswith("CALL") and arguments > above else None
        above += pushed - popped
    return None


def returned_directly(code):
    """fate() of the value being made now, seen from the compiled function's frame (the
    first frame outside chainrule must be that function's own)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is code:
            return fate(code, frame.f_lasti)
        if not frame.f_globals.get("__name__", "").startswith("chainrule"):
            return None
        frame = frame.f_back
    return None
