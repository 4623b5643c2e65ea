"""The PostgreSQL -> PostgreSQL copy path chosen from produced and target types."""

from ferry.engines.native import CopyPath, path_for


def test_same_binary_safe_types_are_binary():
    assert path_for([("a", "int4", "int4"), ("b", "bpchar", "bpchar"), ("c", "jsonb", "jsonb")]) == CopyPath("binary")


def test_a_faithful_text_type_into_another_type_is_text():
    assert path_for([("a", "int4", "int4"), ("b", "int4", "int8"), ("c", "text", "int4")]) == CopyPath("text")
    assert path_for([("j", "json", "jsonb"), ("e", "enum", "text")]).format == "text"


def test_same_type_without_safe_binary_form_is_text():
    assert path_for([("a", "_int4", "_int4"), ("p", "point", "point")]).format == "text"


def test_types_whose_text_differs_from_the_row_path_take_the_row_path():
    assert path_for([("r", "float4", "float8")]) == CopyPath(None, "column r: float4 into float8")
    assert path_for([("b", "bytea", "text")]).format is None
    assert path_for([("d", "float8", "int4")]).format is None  # 2 prints as 2.0 in Python
    assert path_for([("m", "money", "money"), ("t", "text", "varchar")]).format is None   # money as text: locale


def test_money_and_network_types_into_the_same_type_are_binary():
    """money's binary form is its int8 of cents, whatever lc_monetary prints."""
    assert path_for([("m", "money", "money"), ("h", "inet", "inet"), ("c", "cidr", "cidr")]).format == "binary"


def test_widenings_are_known_exact_casts():
    from ferry.engines.native import WIDENINGS

    assert WIDENINGS[("int4", "int8")] == "bigint" and ("int8", "int4") not in WIDENINGS
    assert ("numeric", "int4") not in WIDENINGS  # a cast rounds where the target's input refuses
