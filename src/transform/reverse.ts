/**
 * Direction reversal (`--honeynet`), snortconfig's rule: swap the source and destination ADDRESSES when both are
 * variables. Ports and the direction operator (`->`, `<>`) stay: the attacked service keeps its port, so a rule for
 * `$EXTERNAL_NET any -> $HOME_NET 80` becomes `$HOME_NET any -> $EXTERNAL_NET 80` (a honeypot attacking a web server).
 *
 * "Variable" means an expression made only of `$NAME`s: `$HOME_NET`, `!$HOME_NET`, `[$HTTP_SERVERS,$SMTP_SERVERS]`.
 * Every other pair is classified and governed by `literalAddresses`:
 * - `same`: both sides are the same text (`any`/`any`, `$HOME_NET`/`$HOME_NET`): swapping changes nothing.
 * - `mixed`: one side is variables, the other `any` (`any -> $HOME_NET`).
 * - `literal`: a side holds an IP address or CIDR (`[1.2.3.4,5.6.7.8] -> $HOME_NET`).
 * `keep` leaves mixed and literal rules as they are (snortconfig), `swap` swaps them too, `error` skips the rule.
 */
import type { AddressExpr, Edit, RuleNode } from '../ast.js';

export type LiteralAddressPolicy = 'keep' | 'swap' | 'error';
export const LITERAL_ADDRESS_POLICIES: readonly LiteralAddressPolicy[] = ['keep', 'swap', 'error'];

export type AddressPairKind = 'variables' | 'same' | 'mixed' | 'literal';

export function isVariableExpr(e: AddressExpr): boolean {
  if (e.kind === 'var') return true;
  if (e.kind === 'list') return e.items.length > 0 && e.items.every(isVariableExpr);
  return false;
}

function hasLiteral(e: AddressExpr): boolean {
  if (e.kind === 'cidr') return true;
  if (e.kind === 'list') return e.items.some(hasLiteral);
  return false;
}

export function classifyAddresses(rule: Pick<RuleNode, 'header'>, text: string): AddressPairKind {
  const { src, dst } = rule.header;
  if (text.slice(src.span.start, src.span.end) === text.slice(dst.span.start, dst.span.end)) return 'same';
  if (isVariableExpr(src.value) && isVariableExpr(dst.value)) return 'variables';
  if (hasLiteral(src.value) || hasLiteral(dst.value)) return 'literal';
  return 'mixed';
}

export interface ReversalOutcome {
  kind: AddressPairKind;
  /** Whether the addresses were swapped. */
  swapped: boolean;
  /** For `error`: the rule must be skipped. */
  refused: boolean;
  edits: Edit[];
}

/** The edits that swap the two address fields (source text taken from the file, so continuations are safe). */
export function swapEdits(rule: Pick<RuleNode, 'header'>, text: string): Edit[] {
  const { src, dst } = rule.header;
  return [
    { start: src.span.start, end: src.span.end, text: text.slice(dst.span.start, dst.span.end) },
    { start: dst.span.start, end: dst.span.end, text: text.slice(src.span.start, src.span.end) },
  ];
}

export function reverseRule(rule: Pick<RuleNode, 'header'>, text: string, policy: LiteralAddressPolicy): ReversalOutcome {
  const kind = classifyAddresses(rule, text);
  if (kind === 'same') return { kind, swapped: false, refused: false, edits: [] };
  if (kind === 'variables' || policy === 'swap') return { kind, swapped: true, refused: false, edits: swapEdits(rule, text) };
  return { kind, swapped: false, refused: policy === 'error', edits: [] };
}
