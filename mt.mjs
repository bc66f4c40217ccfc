const t0 = performance.now()
await import('zod')
const t1 = performance.now()
const mods = process.argv.slice(2)
for (const m of mods) { const a = performance.now(); await import(m); console.log(m, (performance.now() - a).toFixed(1)) }
console.log('zod', (t1 - t0).toFixed(1))
