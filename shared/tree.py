"""Organisation paths as they travel in events ("/1/7/42/"): members stores the tree this way,
identity and notify project it. A subtree is one index range; the committees above are prefixes."""


def subtree_bounds(path):
    """The half-open string range holding `path` and every path below it."""
    return path, path[:-1] + "0"  # "/" + 1 == "0"


def in_subtree(path, root_path):
    return path.startswith(root_path)


def ancestor_ids(path):
    return [int(part) for part in path.strip("/").split("/") if part]


def ancestor_paths(path):
    """`/1/7/42/` → `/1/`, `/1/7/`, `/1/7/42/`: the organisation and every one above it."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]
