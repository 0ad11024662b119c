// An unhandled promise rejection with a non-Error reason ends a Node process (Node 15+).
console.error("starting");
Promise.reject("database unavailable");
