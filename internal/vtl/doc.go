// Package vtl implements the Velocity Template Language as Apache Velocity 1.7 runs it,
// the version behind API Gateway's mapping templates (and AppSync's resolvers).
//
// Templates hold references ($x, $!x, ${x}, $x.y, $x.m(args), $x[i]), directives (#set,
// #if/#elseif/#else, #foreach with $foreach and $velocityCount, #break, #stop, #define,
// #macro), comments (## and #* *#), unparsed blocks (#[[ ]]#) and escapes (\$x, \#if).
// Expressions have string, number, boolean, list, map and range literals, arithmetic,
// comparisons and logical operators in their symbol and word forms.
//
// The rendering follows Velocity 1.7's grammar where it is surprising:
//   - a null reference renders as written ($foo stays $foo), a quiet one ($!foo) as nothing;
//     Options.NullAsEmpty renders both as nothing, as API Gateway does;
//   - #end, #else and a directive's closing parenthesis eat the spaces and line break
//     that follow them, and #set also eats the spaces before it when they begin a token,
//     so indentation before #if and #foreach stays in the output;
//   - #set with a null right-hand side leaves the variable unchanged;
//   - strings in double quotes are templates themselves and know no backslash escapes
//     but \uXXXX; a doubled quote stands for one.
//
// Values are nil, bool, int64 (and int), float64, json.Number (whose text is kept),
// string, *List, []any, *Map, map[string]any and Object, through which callers expose
// their own properties and methods. Strings, lists and maps answer the java.lang.String,
// java.util.List and java.util.Map methods templates use; Java's UTF-16 indexing is kept.
//
// One execution never panics (a failure becomes an error), renders at most MaxOutput
// bytes, stops each #foreach after MaxForeachIterations as API Gateway does, and is
// bounded in nesting and total work.
package vtl
