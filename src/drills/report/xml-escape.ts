// XML 1.0 escaping for the JUnit report: markup characters become entities, and characters XML 1.0 cannot carry
// at all (control characters, lone surrogates, U+FFFE/U+FFFF; not even as &#x1;) become visible `\xHH` text, so a
// NUL in pg_amcheck's output or an error message can never make the whole report unreadable to a CI system.

/** True for the code points XML 1.0 allows in a document (its `Char` production). */
function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

const TEXT_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
// In attributes, quotes end the value, and a parser turns raw tabs and line breaks into spaces: keep them as
// character references so a multi-line message survives.
const ATTRIBUTE_ENTITIES: Readonly<Record<string, string>> = { ...TEXT_ENTITIES, '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

function escapeWith(value: string, entities: Readonly<Record<string, string>>): string {
  let out = '';
  // for..of walks code points: a surrogate pair is one character, a lone surrogate is one too (and not allowed).
  for (const char of value) {
    const codePoint = char.codePointAt(0)!;
    if (!isXmlChar(codePoint)) {
      out += codePoint <= 0xff ? `\\x${codePoint.toString(16).padStart(2, '0')}` : `\\u${codePoint.toString(16).padStart(4, '0')}`;
      continue;
    }
    out += entities[char] ?? char;
  }
  return out;
}

/** `value` as XML element content. */
export function escapeXmlText(value: string): string {
  return escapeWith(value, TEXT_ENTITIES);
}

/** `value` as a double- or single-quoted XML attribute value (without the quotes). */
export function escapeXmlAttribute(value: string): string {
  return escapeWith(value, ATTRIBUTE_ENTITIES);
}
