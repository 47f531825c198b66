/** A strict little XML well-formedness check for the charts the bench writes (no dependency needed). */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = '[A-Za-z_][\\w.:-]*';
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: string): void {
  if (text.includes('<')) throw new Error(`unescaped < in ${where}`);
  if (text.replace(ENTITY, '').includes('&')) throw new Error(`unescaped & in ${where}: ${text.slice(0, 60)}`);
}

/** Parses a document; throws on anything that is not well-formed XML. Returns the root element. */
export function parseXml(source: string): XmlElement {
  let rest = source.replace(/^<\?xml[^?]*\?>/, '');
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"]*")*)\\s*(/?)>`);
  const attribute = new RegExp(`(${NAME})\\s*=\\s*"([^"]*)"`, 'g');
  while (rest.length > 0) {
    if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->');
      if (end < 0) throw new Error('unterminated comment');
      rest = rest.slice(end + 3);
      continue;
    }
    if (rest.startsWith('<')) {
      const match = tag.exec(rest);
      if (!match) throw new Error(`malformed tag at: ${rest.slice(0, 60)}`);
      const [whole, closing, name, attrText, selfClosing] = match;
      rest = rest.slice(whole.length);
      if (closing) {
        const open = stack.pop();
        if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
        continue;
      }
      const element: XmlElement = { name, attributes: {}, children: [], text: '' };
      for (const [, key, value] of attrText.matchAll(attribute)) {
        if (key in element.attributes) throw new Error(`attribute ${key} repeated on <${name}>`);
        checkText(value, `attribute ${key} of <${name}>`);
        element.attributes[key] = value;
      }
      stack[stack.length - 1].children.push(element);
      if (!selfClosing) stack.push(element);
      continue;
    }
    const next = rest.indexOf('<');
    const text = next < 0 ? rest : rest.slice(0, next);
    checkText(text, `text of <${stack[stack.length - 1].name}>`);
    if (stack.length === 1 && text.trim() !== '') throw new Error('text outside the root element');
    stack[stack.length - 1].text += text;
    rest = next < 0 ? '' : rest.slice(next);
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  if (root.children.length !== 1) throw new Error(`expected one root element, found ${root.children.length}`);
  return root.children[0];
}

/** Every element below (and including) `element` that satisfies `predicate`. */
export function findAll(element: XmlElement, predicate: (e: XmlElement) => boolean): XmlElement[] {
  return [...(predicate(element) ? [element] : []), ...element.children.flatMap((c) => findAll(c, predicate))];
}
