/**
 * The slice of OData V2 `$filter` the SAP emulator evaluates, as SAP Gateway parses it: comparisons
 * `<Property> eq|ne|gt|ge|lt|le <literal>` joined by `and` / `or` with parentheses, literals
 * `'text'`, `datetime'2025-03-25T00:00:00'` (no zone: UTC here) and `datetimeoffset'…Z'`. A null
 * property compares false. Anything else is a syntax error (SAP answers 400).
 */
export type FilterValue = string | number | null;
export type FilterRecord = Record<string, FilterValue>;
type Predicate = (record: FilterRecord) => boolean;

const TOKEN = /\s*(\(|\)|datetimeoffset'[^']*'|datetime'[^']*'|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*|\S+)/y;
const OPERATORS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

export class FilterSyntaxError extends Error {}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match; match = TOKEN.exec(text)) tokens.push(match[1]!);
  return tokens;
}

function literal(token: string | undefined): FilterValue {
  if (!token) throw new FilterSyntaxError('literal expected');
  const typed = /^(datetimeoffset|datetime)'([^']*)'$/.exec(token);
  if (typed) {
    const ms = Date.parse(typed[1] === 'datetime' ? `${typed[2]}Z` : typed[2]!);
    if (!Number.isFinite(ms)) throw new FilterSyntaxError(`invalid ${typed[1]} literal`);
    return ms;
  }
  if (/^'.*'$/s.test(token)) return token.slice(1, -1).replace(/''/g, "'");
  throw new FilterSyntaxError('unsupported literal');
}

function compare(value: FilterValue, operator: string, operand: FilterValue): boolean {
  if (value === null || operand === null) return operator === 'ne' ? value !== operand : false;
  switch (operator) {
    case 'eq':
      return value === operand;
    case 'ne':
      return value !== operand;
    case 'gt':
      return value > operand;
    case 'ge':
      return value >= operand;
    case 'lt':
      return value < operand;
    default:
      return value <= operand;
  }
}

/** A predicate over records whose properties are `properties`; unknown properties are errors. */
export function parseFilter(text: string, properties: ReadonlySet<string>): Predicate {
  const tokens = tokenize(text);
  let position = 0;
  const next = () => tokens[position++];

  function term(): Predicate {
    if (tokens[position] === '(') {
      next();
      const inner = expression();
      if (next() !== ')') throw new FilterSyntaxError('")" expected');
      return inner;
    }
    const property = next();
    const operator = next();
    if (!property || !properties.has(property)) throw new FilterSyntaxError(`property ${property ?? ''} not found`);
    if (!operator || !OPERATORS.has(operator)) throw new FilterSyntaxError('comparison operator expected');
    const operand = literal(next());
    return (record) => compare(record[property] ?? null, operator, operand);
  }

  function expression(): Predicate {
    let left = term();
    for (let joiner = tokens[position]; joiner === 'and' || joiner === 'or'; joiner = tokens[position]) {
      next();
      const [a, b] = [left, term()];
      left = joiner === 'and' ? (record) => a(record) && b(record) : (record) => a(record) || b(record);
    }
    return left;
  }

  const predicate = expression();
  if (position !== tokens.length) throw new FilterSyntaxError('unexpected input after the expression');
  return predicate;
}
