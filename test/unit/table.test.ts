import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitWidths, TABLE_WIDTH, textTable } from '../../src/client/table';

/** Width of a table's widest line: its borders and cells here are one column per character. */
const widest = (text: string) => Math.max(...text.split('\n').map((line) => Array.from(line).length));

describe('table', () => {
  test('fitWidths narrows the widest columns first, to a common width, until the table fits', () => {
    assert.deepEqual(fitWidths([14, 20, 30], 120), [14, 20, 30], 'what fits is left as it is');
    // 4 borders + 14 + 2 x 51 = 120.
    assert.deepEqual(fitWidths([14, 90, 68], 120), [14, 51, 51]);
    assert.deepEqual(fitWidths([14, 90, 30], 120), [14, 72, 30]);
    assert.deepEqual(fitWidths([100, 100], 20), [8, 8], 'never below 8 columns');
  });

  test('textTable prints at most TABLE_WIDTH columns, cutting long cells with "…"', () => {
    const table = textTable({ head: ['hash', 'location', 'note'] });
    table.push(['abababababab', `s3://bucket/${'ab'.repeat(32)}/run-0123456789abcdef`, 'n'.repeat(300)]);
    table.push(['cd', 'short', 'short']);
    const text = table.toString();
    assert.ok(widest(text) <= TABLE_WIDTH, text);
    assert.match(text, /│ abababababab │ s3:\/\/bucket\/abab.*… │ nnnn.*… │/);
    assert.equal(table.toString(), text, 'printed again, the same');
  });

  test('textTable keeps given column widths that fit, and narrows those that do not', () => {
    const table = textTable({ head: ['a', 'b'], colWidths: [10, 200], wordWrap: true });
    table.push(['x', 'word '.repeat(100)]);
    const text = table.toString();
    assert.equal(widest(text), TABLE_WIDTH);
    assert.match(text, /^┌─{10}┬/);
  });
});
