/** Sizes in the decimal units docker prints (go-units' HumanSize). */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** `humanSize(1234567)` → `1.23MB`: three significant digits, decimal units. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatSignificant(size, 4)}${UNITS[i]}`;
}

/** Go's %.4g: up to `digits` significant digits without trailing zeros. */
function formatSignificant(n: number, digits: number): string {
  if (n === 0) return '0';
  const s = n.toPrecision(digits);
  if (s.includes('e')) return String(Number(s));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
