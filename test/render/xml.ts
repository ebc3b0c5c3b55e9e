/**
 * A tiny well-formedness check for the SVG strings the renderers produce: balanced, properly nested tags, quoted
 * attributes, no raw `<` or stray `&` in text. Returns the list of element names (in document order).
 */
export function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|#39);)/g;
  let m: RegExpExecArray | null;
  let last = 0;
  for (;;) {
    m = re.exec(xml);
    if (m === null) break;
    if (m[0] === '<') throw new Error(`malformed tag at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (m[0].startsWith('&'))
      throw new Error(`unescaped & at ${m.index}: ${xml.slice(m.index, m.index + 20)}`);
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${m.index}`);
    } else {
      names.push(name);
      if (!self) stack.push(name);
    }
    last = re.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (xml.slice(last).trim() !== '') throw new Error('text after the root element');
  return names;
}
