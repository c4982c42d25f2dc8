/**
 * Builds DOM without HTML strings: text goes in through `textContent` and attributes through `setAttribute`, so
 * a run name, a metric name or a log line from a file is always shown as text and never parsed as markup.
 */
type Child = Node | string | number | null | undefined | false;

export interface Attributes {
  class?: string;
  title?: string;
  [name: string]: string | number | boolean | undefined | ((event: Event) => void);
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') {
      if (!name.startsWith('on')) throw new Error(`h(): ${name} is a function but not an event`);
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (!/^on/i.test(name)) {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.textContent = '';
  append(parent, ...children);
}

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing`);
  return element as T;
}
