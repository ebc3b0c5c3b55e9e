/** The `transferkit` command line. */
console.log('transferkit');
