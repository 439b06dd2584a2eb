"""Vietnamese text as people search it: diacritics, case and spacing ignored (members' names today, content's
documents next), so `nghi quyet dai hoi` finds `Nghị quyết Đại hội`."""

import unicodedata


def _folding_table():
    """Each accented Latin letter → its base letter, combining marks → nothing (built once). Đ/đ are letters of
    their own, not D with a mark: Unicode decomposition leaves them, so they are folded by name."""
    table = dict.fromkeys(range(0x0300, 0x0370))
    for code in range(0x00C0, 0x1F00):
        letter = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", letter) if unicodedata.category(c) != "Mn")
        if base != letter and base.isascii():
            table[code] = base
    table.update({ord("Đ"): "D", ord("đ"): "d"})
    return table


_FOLD = _folding_table()


def fold(text):
    """`Nghị quyết Đại hội` → `Nghi quyet Dai hoi`: diacritics gone, case and spacing kept."""
    return unicodedata.normalize("NFC", text).translate(_FOLD)


def search_key(text):
    """`Nguyễn Văn An` → `nguyen van an`: diacritics and case ignored, spacing made single."""
    return " ".join(fold(text).lower().split())
