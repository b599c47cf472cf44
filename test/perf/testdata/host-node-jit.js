// A CPU-bound loop with a few named functions, so that JIT frames have names.
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function parse(line) { return line.split(";").map((f) => f.trim()).filter(Boolean).length; }
function work() {
  let total = 0;
  const lines = Array.from({ length: 2000 }, (_, i) => `main;f${i % 17};g${i % 5};h `);
  const end = Date.now() + 500;
  while (Date.now() < end) {
    total += fib(18);
    for (const l of lines) total += parse(l);
  }
  return total;
}
console.log(work());
