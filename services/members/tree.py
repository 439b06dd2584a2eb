"""The organisation tree as materialised paths ("/1/7/42/"): a subtree is one index range."""


def subtree_bounds(path):
    """The half-open string range holding `path` and every path below it."""
    return path, path[:-1] + "0"   # "/" + 1 == "0"


def in_subtree(path, root_path):
    return path.startswith(root_path)


def ancestor_ids(path):
    return [int(part) for part in path.strip("/").split("/") if part]
