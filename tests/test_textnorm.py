"""textnorm: bytes → text (``decode``), text → clean NFC text (``clean_text``, ``clean_line``)."""

from __future__ import annotations

import codecs
import gzip

import pytest

from newsearch.textnorm import BinaryContent, clean_line, clean_text, decode, unmix_scripts

# --- decode ------------------------------------------------------------------------------------


def test_decode_reads_utf8():
    assert decode("Zürich — Москва £5".encode()) == ("Zürich — Москва £5", "utf-8")


@pytest.mark.parametrize(
    "bom, encoding",
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_decode_drops_the_bom_and_uses_its_encoding(bom, encoding):
    assert decode(bom + "Zürich, Москва".encode(encoding)) == ("Zürich, Москва", encoding)


@pytest.mark.parametrize(
    "data, text",
    [
        # BBC sport/199.txt: ASCII with one Latin-1 pound sign.
        (
            b"fee for Mutu, a \xa315.8m signing from Parma",
            "fee for Mutu, a £15.8m signing from Parma",
        ),
        # The same stray byte among real UTF-8 characters: those must survive too.
        (
            "Mutu’s café fee — ".encode() + b"a \xa315.8m signing",
            "Mutu’s café fee — a £15.8m signing",
        ),
        # Several stray Latin-1 letters, each on its own.
        (b"caf\xe9 cr\xe8me at \xa33", "café crème at £3"),
    ],
)
def test_decode_patches_stray_latin1_bytes_and_keeps_everything_else(data, text):
    assert decode(data)[0] == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_decode_detects_utf16_without_bom(encoding):
    text = "Markets rally on rate hopes\n\nStocks rose on Thursday."
    assert decode(text.encode(encoding)) == (text, encoding)


def test_decode_detects_cp1251_russian_without_declaration():
    text = (
        "Банк России сохранил ключевую ставку на уровне 15% годовых. Решение совет "
        "директоров принял в пятницу, сообщила пресс-служба регулятора."
    )
    assert decode(text.encode("cp1251"))[0] == text


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00",
        gzip.compress(b"a gzip stream is not text"),
        b"\x00\x01\x02\x03" * 100,  # NULs in every other byte, as in UTF-16, but no text
        b"Headline\x00\x00\x00\x00\x00\x00body text",  # valid UTF-8, but NULs
    ],
    ids=["png", "zip", "elf", "gzip", "utf16-like-controls", "utf8-with-nuls"],
)
def test_decode_rejects_binary_bytes(data):
    with pytest.raises(BinaryContent):
        decode(data)


# --- clean_text / clean_line -------------------------------------------------------------------


def test_clean_text_composes_to_nfc():
    assert clean_text("Бии\u0306ск") == "Бийск"


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad", "\u2060"],
    ids=["zwsp", "zwnj", "zwj", "lrm", "rlm", "bom", "soft-hyphen", "word-joiner"],
)
def test_clean_text_removes_invisible_characters(invisible):
    assert clean_text(f"Tele{invisible}gram") == "Telegram"


@pytest.mark.parametrize(
    "space",
    ["\u00a0", "\u2009", "\u202f", "\u3000", "\t"],
    ids=["nbsp", "thin", "narrow-nbsp", "ideographic", "tab"],
)
def test_clean_text_turns_other_spaces_into_plain_spaces(space):
    assert clean_text(f"15{space}000 рублей") == "15 000 рублей"


def test_clean_text_collapses_runs_of_spaces_and_strips_line_ends():
    assert clean_text("  DETROIT  (Reuters) -  Ford   \n  posted a loss  ") == (
        "DETROIT (Reuters) - Ford\nposted a loss"
    )


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2028", "\u0085"])
def test_clean_text_turns_line_ends_into_lf(newline):
    assert clean_text(f"one{newline}two") == "one\ntwo"


def test_clean_text_keeps_paragraph_breaks():
    assert (
        clean_text("First paragraph.\n\nSecond paragraph.")
        == "First paragraph.\n\nSecond paragraph."
    )


@pytest.mark.parametrize("gap", ["\n\n\n", "\n\n\n\n\n", "\r\n\r\n\r\n", "\n \n\u00a0\n\t\n"])
def test_clean_text_collapses_blank_line_runs_to_one_paragraph_break(gap):
    assert clean_text(f"First.{gap}Second.") == "First.\n\nSecond."


def test_clean_text_removes_control_characters():
    assert clean_text("Reuter\x03\x1f \x7fends") == "Reuter ends"


def test_clean_line_folds_text_onto_one_line():
    assert clean_line("  Kazakhstan\n forces\u00a0begin\r\n\r\nto withdraw ") == (
        "Kazakhstan forces begin to withdraw"
    )


@pytest.mark.parametrize("empty", [None, "", " \n\u200b "])
def test_clean_line_of_nothing_is_empty(empty):
    assert clean_line(empty) == ""


# --- unmix_scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mixed, clean",
    [
        ("\u0421olumn", "Column"),  # Cyrillic С, the rest Latin
        ("c\u043e\u0432\u0435\u0442", "\u0441\u043e\u0432\u0435\u0442"),  # Latin c in совет
        ("\u0422elegram channel", "Telegram channel"),
        ("Zаветам", "Zаветам"),  # Z and в have no look-alike: stays as written
        ("СоловьёвLIVE", "СоловьёвLIVE"),
        ("Москва and Moscow", "Москва and Moscow"),  # separate words are fine as they are
    ],
)
def test_unmix_scripts(mixed, clean):
    out = unmix_scripts(mixed)
    assert out == clean
