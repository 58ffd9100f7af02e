"""The shape of one demo topic (see ``demo.topics``)."""


def T(cat, tags, s, t, p, c, a, q="", d="", h="", dept=""):
    """One topic (see the module docstring)."""
    return {"cat": cat, "tags": frozenset(tags.split()), "s": s, "t": t, "p": p, "c": c, "a": a,
            "q": q, "d": d, "h": h, "dept": dept}
