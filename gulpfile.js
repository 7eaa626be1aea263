// Copies what tsc does not emit next to the compiled nodes in dist/: icons and codex files.
const { src, dest, task } = require('gulp');

task('build:assets', () =>
	src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false, allowEmpty: true }).pipe(dest('dist')),
);
