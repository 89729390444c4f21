/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;
