/** Path routing: a segment trie from PVE path templates ('/nodes/{node}/qemu/{vmid}') to handlers. */
import type { Req } from './context.js';

export type Handler = (r: Req) => unknown;

interface TrieNode {
  literal: Map<string, TrieNode>;
  param?: { name: string; next: TrieNode };
  /** method → [route template, handler] */
  methods: Map<string, { template: string; handler: Handler }>;
}

const newNode = (): TrieNode => ({ literal: new Map(), methods: new Map() });

export class Router {
  private root = newNode();

  add(method: string, template: string, handler: Handler): void {
    let n = this.root;
    for (const seg of template.split('/').filter(Boolean)) {
      const m = /^\{(.+)\}$/.exec(seg);
      if (m) {
        n.param ??= { name: m[1]!, next: newNode() };
        n = n.param.next;
      } else {
        let next = n.literal.get(seg);
        if (!next) n.literal.set(seg, (next = newNode()));
        n = next;
      }
    }
    n.methods.set(method, { template, handler });
  }

  /** All registered 'METHOD /template' keys. */
  routes(): string[] {
    const out: string[] = [];
    const walk = (n: TrieNode): void => {
      for (const [m, { template }] of n.methods) out.push(`${m} ${template}`);
      for (const c of n.literal.values()) walk(c);
      if (n.param) walk(n.param.next);
    };
    walk(this.root);
    return out.sort();
  }

  /** The handler for a method and path, with the path parameters; undefined when PVE would answer 501. */
  match(method: string, path: string): { template: string; handler: Handler; pathParams: Record<string, string> } | undefined {
    let n: TrieNode | undefined = this.root;
    const pathParams: Record<string, string> = {};
    for (const raw of path.split('/')) {
      if (!raw) continue;
      const seg = decodeURIComponent(raw);
      const lit: TrieNode | undefined = n.literal.get(seg);
      if (lit) n = lit;
      else if (n.param) {
        pathParams[n.param.name] = seg;
        n = n.param.next;
      } else return undefined;
    }
    const m = n.methods.get(method);
    return m ? { ...m, pathParams } : undefined;
  }
}
