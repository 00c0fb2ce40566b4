/**
 * Header values the SDK sends must be valid before they reach `Headers`: a
 * platform `TypeError` for an invalid value quotes the whole value (a token,
 * say) in its message and stack. Checked where the value enters the SDK, so
 * the error is typed and names the problem, never the value.
 */

/**
 * What is wrong with a header value, or `undefined` when it can be sent. CR,
 * LF and NUL end a header line (header injection); `fetch` also refuses code
 * points above 0xFF.
 */
export function headerValueProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 13) return 'a carriage return (CR)';
    if (code === 10) return 'a line feed (LF)';
    if (code === 0) return 'a NUL character';
    if (code > 0xff) {
      return `a character outside Latin-1 (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
    }
  }
  return undefined;
}
